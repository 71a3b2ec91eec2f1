// `npm start`: Node 24 and dependencies when missing, then the app with Forge's dev server.
import { ensureDependencies, node24Env, run } from './node24.mjs';

const env = node24Env();
ensureDependencies(env);
run('npx', ['electron-forge', 'start'], env);
