// The whole page: the instances of the machine (polled), and the one chosen (its address is the
// page's #env/instance, so a view can be bookmarked and the back button works).
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ActionResult, InstancesResponse, InstanceSummary } from '../api-types.ts';
import { fetchInstances, keyOf } from './api.ts';
import { InstanceList } from './instance-list.tsx';
import { InstanceView } from './instance-view.tsx';

const POLL_MS = 1000;

function selectedFromHash(): string | null {
  const key = decodeURIComponent(location.hash.slice(1));
  return key.includes('/') ? key : null;
}

export function App() {
  const [snapshot, setSnapshot] = useState<InstancesResponse | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(selectedFromHash());
  const [notice, setNotice] = useState<(ActionResult & { what: string }) | null>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const poll = async () => {
      try {
        const next = await fetchInstances();
        if (!live) return;
        setSnapshot(next);
        setProblem(null);
      } catch (error) {
        if (live) setProblem(`cannot reach the warren ui server: ${(error as Error).message}`);
      }
      if (live) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    const onHash = () => setSelected(selectedFromHash());
    addEventListener('hashchange', onHash);
    return () => {
      live = false;
      clearTimeout(timer);
      removeEventListener('hashchange', onHash);
    };
  }, []);

  const select = useCallback((i: InstanceSummary) => {
    location.hash = encodeURIComponent(keyOf(i)).replace('%2F', '/');
    setSelected(keyOf(i));
  }, []);

  const current = snapshot?.instances.find((i) => keyOf(i) === selected);
  const now = snapshot ? Date.parse(snapshot.at) : Date.now();
  return (
    <>
      <header class="top">
        <h1>warren</h1>
        <span class="muted">{snapshot ? `${snapshot.instances.length} instance${snapshot.instances.length === 1 ? '' : 's'} on this machine` : 'loading…'}</span>
      </header>
      {problem && <p class="banner bad" role="alert">{problem}</p>}
      <div aria-live="polite" class="notice-area">
        {notice && (
          <p class={`banner ${notice.ok ? 'good' : 'bad'}`} role={notice.ok ? 'status' : 'alert'} data-testid="action-result">
            {notice.what}: {notice.message}
            <button type="button" class="link" aria-label="Dismiss this message" onClick={() => setNotice(null)}>×</button>
          </p>
        )}
      </div>
      <main>
        <InstanceList instances={snapshot?.instances ?? []} selected={selected} now={now} onSelect={select} />
        {selected && current && <InstanceView key={`${selected}@${current.createdAt}`} summary={current} onResult={setNotice} />}
        {selected && snapshot && !current && <p class="muted" role="status">{selected} is not up (any more).</p>}
        {!selected && snapshot && snapshot.instances.length > 0 && <p class="muted">Choose an instance to see its topology, logs and events.</p>}
      </main>
    </>
  );
}
