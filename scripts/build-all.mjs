// Builds main, preload and renderer exactly as `electron-forge package` would (same
// plugin config, same Forge config generator), without needing Electron's binary —
// which cannot be downloaded on CI machines — and then the host agent bundle.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'vite';
import { viteBuild } from '../forge.config.ts';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
// The generator is not in the package's exports; its main entry sits beside it in dist/.
const pluginDir = path.dirname(path.dirname(require.resolve('@electron-forge/plugin-vite')));
const { default: ViteConfigGenerator } = await import(pathToFileURL(path.join(pluginDir, 'dist/ViteConfig.js')).href);

const generator = new ViteConfigGenerator(viteBuild, root, true);
const configs = [...(await generator.getBuildConfigs()), ...(await generator.getRendererConfig())];
for (const config of configs) {
  await build({ configFile: false, logLevel: 'warn', ...config });
}
await import('./build-agent.mjs');
console.log(`built ${configs.length} Vite bundles and the host agent`);
