// The outlast web viewer: a hash-routed Preact app over the JSON API of `outlast view`.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { HarnessesPage } from './harnesses.js';
import { ComparePage, ExperimentPage, ExperimentsPage, RolloutPage, href } from './pages.js';
import './style.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const hash = useHash();
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  let page;
  if (parts[0] === 'experiment' && parts[1]) page = <ExperimentPage id={parts[1]} />;
  else if (parts[0] === 'harnesses' && parts[1]) page = <HarnessesPage id={parts[1]} />;
  else if (parts[0] === 'compare' && parts[1] && parts[2]) page = <ComparePage a={parts[1]} b={parts[2]} />;
  else if (parts[0] === 'rollout' && parts[1] && parts[2]) page = <RolloutPage exp={parts[1]} rid={parts[2]} />;
  else page = <ExperimentsPage />;
  return (
    <>
      <header>
        <a href={href.home()} class="brand">
          outlast
        </a>
        <span class="muted">long-horizon agent evaluations</span>
      </header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
