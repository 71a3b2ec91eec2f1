#!/usr/bin/env node
// Entry point of `npx runtime-lab`. The CLI is TypeScript run directly by Node's type
// stripping (Node >= 22.18), so there is no build step between a change and its use.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`runtime-lab: Node ${process.versions.node} is too old; Runtime Lab needs Node 24. From the checkout: PATH="$(bash scripts/ensure-node.sh):$PATH" npx runtime-lab …\n`);
  process.exit(1);
}
// Type stripping announces itself as experimental on every run; keep other warnings.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (!(w.name === 'ExperimentalWarning' && /type strip/i.test(w.message))) process.stderr.write(`${w.name}: ${w.message}\n`);
});
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
