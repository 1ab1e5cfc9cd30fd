// The live tail of an instance's logs. Lines never go through the component tree: once an
// animation frame, the new lines that pass the filter are appended as one fragment and the
// oldest beyond DOM_LINES removed, so thousands of lines a second cost a few DOM writes a frame.
import { useEffect, useRef, useState } from 'preact/hooks';
import { matches, type LogBuffer, type LogLine } from './log-buffer.ts';

const DOM_LINES = 2000;

interface Props {
  readonly buffer: LogBuffer;
  readonly services: readonly string[];
}

export function LogView({ buffer, services }: Props) {
  const [service, setService] = useState('');
  const [filter, setFilter] = useState('');
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const counter = useRef<HTMLSpanElement>(null);
  const followRef = useRef(follow);
  followRef.current = follow;

  useEffect(() => {
    const el = box.current!;
    const colour = (name: string) => `svc svc-${Math.max(0, services.indexOf(name)) % 8}`;
    const append = (lines: readonly LogLine[]) => {
      const shown = lines.filter((l) => matches(l, service, filter)).slice(-DOM_LINES);
      if (shown.length) {
        const fragment = document.createDocumentFragment();
        for (const line of shown) {
          const row = document.createElement('div');
          row.className = 'line';
          const name = document.createElement('span');
          name.className = colour(line.service);
          name.textContent = line.service;
          row.append(name, document.createTextNode(` ${line.text}`));
          fragment.append(row);
        }
        el.append(fragment);
        for (let extra = el.childElementCount - DOM_LINES; extra > 0; extra--) el.firstElementChild!.remove();
      }
      if (followRef.current) el.scrollTop = el.scrollHeight;
      if (counter.current) counter.current.textContent = `${el.childElementCount} shown of ${buffer.size} kept${buffer.dropped ? ` (${buffer.dropped} older lines not kept)` : ''}`;
    };
    // A new choice redraws from what is kept; from then on only new lines are drawn.
    buffer.takeNew();
    el.replaceChildren();
    append(buffer.all());
    let frame = 0;
    buffer.onPush = () => {
      frame ||= requestAnimationFrame(() => {
        frame = 0;
        append(buffer.takeNew());
      });
    };
    return () => {
      buffer.onPush = undefined;
      cancelAnimationFrame(frame);
    };
  }, [buffer, service, filter, services.join(' ')]);

  // Scrolling up to read stops following; scrolling back to the end follows again.
  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (atEnd !== followRef.current) setFollow(atEnd);
  };

  return (
    <div class="logs">
      <div class="log-controls">
        <label>
          Service{' '}
          <select value={service} onChange={(e) => setService(e.currentTarget.value)}>
            <option value="">all</option>
            {services.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>
          Filter{' '}
          <input type="search" value={filter} placeholder="text in the line" onInput={(e) => setFilter(e.currentTarget.value)} />
        </label>
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow the end
        </label>
        <span class="muted" ref={counter} aria-live="off" />
      </div>
      <div class="log-lines" ref={box} role="log" aria-live="off" aria-label="Log lines" tabIndex={0} data-testid="log-lines" onScroll={onScroll} />
    </div>
  );
}
