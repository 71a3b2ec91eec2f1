import { spawnSync } from 'node:child_process';
import type { ForgeConfig } from '@electron-forge/shared-types';
import { VitePlugin } from '@electron-forge/plugin-vite';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { MakerZIP } from '@electron-forge/maker-zip';
import { MakerDeb } from '@electron-forge/maker-deb';

// The three Vite bundles. scripts/build-all.mjs builds them from this same object with
// Forge's own config generator, so CI proves the bundles build without an Electron binary.
export const viteBuild = {
  build: [
    { entry: 'electron/main.ts', config: 'vite.main.config.ts', target: 'main' as const },
    { entry: 'electron/preload.ts', config: 'vite.preload.config.ts', target: 'preload' as const },
  ],
  renderer: [{ name: 'main_window', config: 'vite.renderer.config.ts' }],
};

const config: ForgeConfig = {
  packagerConfig: {
    name: 'Runtime Lab',
    executableName: 'runtime-lab',
    asar: true,
    // The host agent is uploaded to lab hosts as a file, so it ships beside the asar.
    extraResource: ['dist/agent/runtime-lab-agent.cjs'],
  },
  hooks: {
    // Before start and package: the agent bundle the app uploads must match this source.
    generateAssets: async () => {
      const built = spawnSync(process.execPath, ['scripts/build-agent.mjs'], { stdio: 'inherit' });
      if (built.status !== 0) throw new Error('building the host agent failed');
    },
  },
  makers: [new MakerZIP({}, ['darwin', 'linux', 'win32']), new MakerDeb({ options: { name: 'runtime-lab', bin: 'runtime-lab' } })],
  plugins: [
    new VitePlugin(viteBuild),
    // Hardening that cannot be changed after packaging: the binary refuses to act as
    // plain Node, ignores NODE_OPTIONS and --inspect, and only loads its own checked asar.
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    }),
  ],
};

export default config;
