import { render } from 'preact';
import { App } from './app.tsx';
import './dashboard.css';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App tokensRequired={document.body.dataset.tokens === 'required'} />, root);
}
