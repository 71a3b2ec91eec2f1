// lab-client must be evaluated first: it switches zod to its eval-free mode before any
// shared model module builds a schema (the CSP has no 'unsafe-eval').
import './lab-client.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
