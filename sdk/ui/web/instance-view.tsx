// One instance: its actions, its drawing, its services, its logs live, its events and the
// critical chain of its last up. Health comes from the page's poll; logs and events from one stream.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { LoggedEvent } from '../../../dsl/events.ts';
import type { ActionResult, InstanceDetail, InstanceSummary } from '../api-types.ts';
import { Actions } from './actions.tsx';
import { fetchDetail, followInstance } from './api.ts';
import { ChainView } from './chain-view.tsx';
import { LogBuffer } from './log-buffer.ts';
import { LogView } from './log-view.tsx';
import { ServicesTable } from './services-table.tsx';
import { Timeline } from './timeline.tsx';
import { TopologyView } from './topology-view.tsx';

const MAX_EVENTS = 500;
const DETAIL_REFRESH_MS = 5000;

interface Props {
  readonly summary: InstanceSummary;
  readonly onResult: (result: ActionResult & { what: string }) => void;
}

export function InstanceView({ summary, onResult }: Props) {
  const { env, instance } = summary;
  const [detail, setDetail] = useState<InstanceDetail | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [events, setEvents] = useState<readonly LoggedEvent[]>([]);
  const [gone, setGone] = useState(false);
  const logs = useRef(new LogBuffer()).current;

  const [detailTick, setDetailTick] = useState(0);
  // The drawing shows impairments and partitions: read again after an action, and now and then
  // (another process may shape or partition the instance).
  useEffect(() => {
    fetchDetail(env, instance).then(setDetail, (error: Error) => setProblem(error.message));
    const timer = setTimeout(() => setDetailTick((t) => t + 1), DETAIL_REFRESH_MS);
    return () => clearTimeout(timer);
  }, [env, instance, detailTick]);

  useEffect(() => {
    // Events arrive in bursts: one state change per animation frame.
    let pendingEvents: LoggedEvent[] = [];
    let frame = 0;
    const draw = () => {
      frame = 0;
      if (pendingEvents.length) {
        const fresh = pendingEvents;
        pendingEvents = [];
        setEvents((old) => [...old, ...fresh].slice(-MAX_EVENTS));
      }
    };
    const stop = followInstance(env, instance, (message) => {
      // Log lines go straight to the buffer: the log view draws them itself, once a frame.
      if (message.type === 'log') logs.push(message.service, message.lines, message.dropped);
      else if (message.type === 'gone') setGone(true);
      else {
        pendingEvents.push(...message.events);
        frame ||= requestAnimationFrame(draw);
      }
    });
    return () => {
      stop();
      cancelAnimationFrame(frame);
    };
  }, [env, instance]);

  const services = summary.services;
  return (
    <section class="instance" aria-labelledby="instance-title">
      <div class="instance-head">
        <h2 id="instance-title">{env} / {instance}</h2>
        <span class="muted">{summary.mode}{summary.recipe ? ` · ${summary.recipe}` : ''}</span>
      </div>
      {detail && (
        <Actions env={env} instance={instance} actions={detail.actions} services={services.map((s) => s.name)}
          onResult={(result) => {
            onResult(result);
            setDetailTick((t) => t + 1);
          }} />
      )}
      {problem && <p class="banner bad" role="alert">{problem}</p>}
      {gone && <p class="banner" role="status">The instance is gone; its logs and events end here.</p>}
      <section aria-labelledby="services-title" class="panel">
        <h3 id="services-title">Services</h3>
        <ServicesTable services={services} />
      </section>
      <div class="grid">
        <section aria-labelledby="topology-title" class="panel">
          <h3 id="topology-title">Topology</h3>
          {detail ? <TopologyView topology={detail.topology} services={services} /> : <p class="muted">loading…</p>}
        </section>
        <section aria-labelledby="chain-title" class="panel">
          <h3 id="chain-title">Critical chain of the last up</h3>
          {detail ? <ChainView chain={detail.chain} /> : <p class="muted">loading…</p>}
        </section>
      </div>
      <section aria-labelledby="logs-title" class="panel">
        <h3 id="logs-title">Logs</h3>
        <LogView buffer={logs} services={services.map((s) => s.name)} />
      </section>
      <section aria-labelledby="events-title" class="panel">
        <h3 id="events-title">Events</h3>
        <Timeline events={events} />
      </section>
    </section>
  );
}
