/**
 * The console's only way to make DOM: elements are created node by node and every piece of text goes in as a
 * Text node (never innerHTML), so a stored memory such as `<img src=x onerror=...>` is shown as those characters
 * and can never become markup.
 */
export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Props = Record<string, string | number | boolean | Handler | undefined | null>;

/** An HTML element with attributes (`on<event>` props become listeners; false / null / undefined are left out). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  applyProps(element, props);
  append(element, children);
  return element;
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element, same rules. */
export function svg(tag: string, props: Props = {}, ...children: Child[]): SVGElement {
  const element = document.createElementNS(SVG, tag);
  applyProps(element, props);
  append(element, children);
  return element;
}

function applyProps(element: Element, props: Props): void {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function show(target: Element, ...children: Child[]): void {
  target.replaceChildren();
  append(target, children);
}

/** A date as `2026-11-23 09:00` (UTC), or an empty string. */
export function when(value: string | undefined): string {
  return value ? `${value.slice(0, 10)} ${value.slice(11, 16)}` : '';
}

/** Announces a message to screen readers and shows it in the status bar. */
export function announce(message: string, kind: 'info' | 'error' = 'info'): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.className = kind === 'error' ? 'status error' : 'status';
  status.textContent = message;
}

/** A modal confirmation (an HTML <dialog>, Escape cancels); resolves true when confirmed. */
export function confirmDialog(options: {
  title: string;
  body: Child;
  confirm: string;
  /** The user must type this to confirm. */
  typeToConfirm?: string;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const input = options.typeToConfirm
      ? h('input', { id: 'confirm-input', autocomplete: 'off', 'aria-describedby': 'confirm-hint' })
      : null;
    const confirmButton = h('button', { type: 'submit', class: 'danger' }, options.confirm);
    if (input && options.typeToConfirm) {
      confirmButton.disabled = true;
      const expected = options.typeToConfirm;
      input.addEventListener('input', () => {
        confirmButton.disabled = input.value !== expected;
      });
    }
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'confirm-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'confirm-title' }, options.title),
        h('div', {}, options.body),
        input && options.typeToConfirm
          ? h(
              'p',
              {},
              h(
                'label',
                { for: 'confirm-input', id: 'confirm-hint' },
                `Type ${options.typeToConfirm} to confirm`,
              ),
              input,
            )
          : null,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', value: 'cancel', onclick: () => dialog.close('cancel') }, 'Cancel'),
          confirmButton,
        ),
      ),
    );
    confirmButton.value = 'confirm';
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    (input ?? confirmButton).focus();
  });
}
