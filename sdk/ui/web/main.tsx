// The page of `warren ui`.
import { render } from 'preact';
import { App } from './app.tsx';
import './style.css';

const root = document.getElementById('app')!;
// The shell's "Loading…" goes: render() would keep it beside the page.
root.replaceChildren();
render(<App />, root);
