// The instance's actions, one button each (per-service actions get a service picker). One that
// asks first opens a modal dialog: Escape or Cancel leaves everything as it was.
import { useRef, useState } from 'preact/hooks';
import type { ActionInfo, ActionResult } from '../api-types.ts';
import { runAction } from './api.ts';

interface Props {
  readonly env: string;
  readonly instance: string;
  readonly actions: readonly ActionInfo[];
  readonly services: readonly string[];
  readonly onResult: (result: ActionResult & { what: string }) => void;
}

export function Actions({ env, instance, actions, services, onResult }: Props) {
  return (
    <div class="actions" role="group" aria-label="Actions">
      {actions.map((a) => <ActionControl key={a.name} action={a} env={env} instance={instance} services={services} onResult={onResult} />)}
    </div>
  );
}

function ActionControl({ action, env, instance, services, onResult }: { readonly action: ActionInfo } & Omit<Props, 'actions'>) {
  const [busy, setBusy] = useState(false);
  const [service, setService] = useState(services[0] ?? '');
  const [values, setValues] = useState<Record<string, string>>({});
  const dialog = useRef<HTMLDialogElement>(null);
  const what = `${action.label} ${env}/${instance}${action.perService ? ` ${service}` : ''}`;

  const run = async () => {
    dialog.current?.close();
    setBusy(true);
    const fields = Object.fromEntries((action.fields ?? []).map((f) => [f.name, values[f.name] ?? '']));
    const result = await runAction(env, instance, action.name, { ...(action.perService ? { service } : {}), ...fields });
    setBusy(false);
    onResult({ ...result, what });
  };

  // An action that asks first opens its dialog; the others run at once.
  const start = () => (action.confirm ? dialog.current?.showModal() : void run());

  return (
    <span class="action">
      {action.perService && (
        <label>
          <span class="visually-hidden">Service for {action.label}</span>
          <select value={service} onChange={(e) => setService(e.currentTarget.value)}>
            {services.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
      )}
      {action.fields?.map((f) => (
        <label key={f.name}>
          <span class="visually-hidden">{f.label} for {action.label}</span>
          <input type="text" value={values[f.name] ?? ''} placeholder={f.placeholder ?? f.label} size={Math.min(28, Math.max(8, (f.placeholder ?? '').length))} data-field={`${action.name}.${f.name}`}
            onInput={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
            onKeyDown={(e) => (e.key === 'Enter' ? start() : undefined)} />
        </label>
      ))}
      <button type="button" data-action={action.name} class={action.confirm ? "danger" : ""} disabled={busy} aria-busy={busy} onClick={start}>
        {busy ? `${action.label}…` : action.label}
      </button>
      {action.confirm && (
        <dialog ref={dialog} aria-labelledby={`confirm-${action.name}`}>
          <p id={`confirm-${action.name}`}>{action.confirm}</p>
          <p class="muted">{env}/{instance}</p>
          <div class="dialog-buttons">
            <button type="button" autofocus onClick={() => dialog.current?.close()}>Cancel</button>
            <button type="button" class="danger" data-confirm={action.name} onClick={() => void run()}>{action.label}</button>
          </div>
        </dialog>
      )}
    </span>
  );
}
