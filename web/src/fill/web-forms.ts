/**
 * The one module that knows ODK Web Forms (@getodk/web-forms, pinned to 0.22.0: its interfaces
 * are not yet stable). It is imported only on demand, so the engine's 2.3 MB load when a form is
 * opened and never before. What it offers the page:
 *
 * - mountWebForm: the form rendered from its raw XForm into an element, in a Vue application of
 *   its own (Web Forms' plugin sets up PrimeVue on the application it is given). Form attachments
 *   (`jr://images/logo.png`, `jr://file-csv/villages.csv`) are asked of the page by file name; one
 *   the server does not have is left blank rather than failing the form.
 * - A finished, valid instance comes back as the OpenRosa parts the `submit` event hands over:
 *   the instance XML (`xml_submission_file`) and the files its answers name.
 * - `reopen` loads a filled instance (a submission to edit, or a saved draft) through the
 *   engine's edit mode: the answers come back, the instance gets a new instanceID, and
 *   meta/deprecatedID names the one it replaces.
 * - snapshot: the answers so far, valid or not, for a draft. Version 0.22 has no drafts and does
 *   not expose its form state, so this finds the engine's root node where the component hands it
 *   to its header (a prop of a child component) by walking Vue's tree of rendered components.
 *   That walk is the part most likely to need changing with a new version; the browser tests
 *   save and resume a draft, so a change that breaks it fails them.
 */
import { createApp, defineComponent, getCurrentInstance, h, isVNode, type App, type ComponentInternalInstance, type VNode } from 'vue';

/** A filled instance as OpenRosa sends it. */
export interface FilledForm {
  /** The instance XML exactly as the engine wrote it. */
  xml: string;
  /** The files the answers name (photos, recordings), each under the name the XML gives it. */
  attachments: File[];
}

export interface ReopenedInstance {
  xml: string;
  /** Every file of the instance, by the name its XML gives it. */
  attachments: ReadonlyMap<string, () => Promise<Blob>>;
}

export interface WebFormOptions {
  formXml: string;
  /** A form attachment by file name; a 404 answer means the server does not have it. */
  fetchMedia(name: string): Promise<Response>;
  reopen?: ReopenedInstance | undefined;
  /**
   * A finished instance that passed every constraint. Resolve `next` to start a new blank
   * instance, `stay` to keep this one on screen (after an edit); a rejection keeps it for
   * another try, the page having said why.
   */
  onSubmit(filled: FilledForm): Promise<'next' | 'stay'>;
}

export interface MountedWebForm {
  /** The answers so far, valid or not; null until the form has loaded. */
  snapshot(): Promise<FilledForm | null>;
  unmount(): void;
}

const INSTANCE_PART = 'xml_submission_file';
/** How long a draft waits for the engine's root to appear in the component tree, and how often it looks. */
const ROOT_WAIT_MS = 5000;
const ROOT_POLL_MS = 50;

/** What the engine's submit event and its payload look like, as far as this module reads them. */
interface InstancePayload {
  readonly data: readonly [FormData, ...FormData[]];
}
type SubmitCallback = (result?: { next?: symbol }) => void;
interface EngineRoot {
  readonly nodeType: 'root';
  prepareInstancePayload(options: { payloadType: 'monolithic' }): Promise<InstancePayload>;
}

export async function mountWebForm(element: HTMLElement, options: WebFormOptions): Promise<MountedWebForm> {
  const { OdkWebForm, webFormsPlugin, POST_SUBMIT__NEW_INSTANCE } = await import('@getodk/web-forms');
  const reopen = options.reopen;
  const props = {
    formXml: options.formXml,
    fetchFormAttachment: (url: URL | string) => options.fetchMedia(mediaName(url)),
    missingResourceBehavior: 'BLANK',
    // A stable per-browser deviceid for forms that record it, as ODK Central's web forms do.
    trackDevice: true,
    ...(reopen === undefined
      ? {}
      : {
          editInstance: {
            resolveInstance: () => reopen.xml,
            attachmentFileNames: [...reopen.attachments.keys()],
            resolveAttachment: async (name: string) => {
              const read = reopen.attachments.get(name);
              return read === undefined ? new Response(null, { status: 404 }) : new Response(await read());
            },
          },
        }),
    onSubmit: (payload: InstancePayload, callback: SubmitCallback) => {
      void filledFrom(payload)
        .then((filled) => options.onSubmit(filled))
        .then(
          (outcome) => callback(outcome === 'next' ? { next: POST_SUBMIT__NEW_INSTANCE } : undefined),
          () => callback(),
        );
    },
  };
  // The host component's own instance, for the draft walk: `app._instance` is set only in
  // development builds (and with devtools), so it cannot be relied on in production.
  let host: ComponentInternalInstance | null = null;
  const app: App = createApp(
    defineComponent(() => {
      host = getCurrentInstance();
      return () => h(OdkWebForm, props);
    }),
  );
  app.use(webFormsPlugin);
  app.mount(element);
  return {
    async snapshot() {
      // The component hands the root to its header a render or two after the form shows: a
      // draft asked for at once waits for it rather than failing.
      for (let waited = 0; ; waited += ROOT_POLL_MS) {
        const subTree = (host as ComponentInternalInstance | null)?.subTree;
        const root = subTree === undefined ? null : findEngineRoot(subTree);
        if (root !== null) return filledFrom(await root.prepareInstancePayload({ payloadType: 'monolithic' }));
        if (waited >= ROOT_WAIT_MS) return null;
        await new Promise((resolve) => setTimeout(resolve, ROOT_POLL_MS));
      }
    },
    unmount: () => app.unmount(),
  };
}

/** The file a `jr://…` URL names: its last path segment. */
function mediaName(url: URL | string): string {
  const path = new URL(String(url)).pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

async function filledFrom(payload: InstancePayload): Promise<FilledForm> {
  const [data] = payload.data;
  const attachments: File[] = [];
  let xml: string | null = null;
  for (const [name, value] of data.entries()) {
    if (!(value instanceof File)) continue;
    if (name === INSTANCE_PART) xml = await value.text();
    else attachments.push(value);
  }
  if (xml === null) throw new Error(`The form engine's payload has no ${INSTANCE_PART}.`);
  return { xml, attachments };
}

function isEngineRoot(value: unknown): value is EngineRoot {
  return typeof value === 'object' && value !== null && (value as { nodeType?: unknown }).nodeType === 'root' && typeof (value as { prepareInstancePayload?: unknown }).prepareInstancePayload === 'function';
}

function findEngineRoot(vnode: VNode): EngineRoot | null {
  const component = vnode.component;
  if (component !== null) {
    for (const value of Object.values(component.props)) if (isEngineRoot(value)) return value;
    return findEngineRoot(component.subTree);
  }
  if (!Array.isArray(vnode.children)) return null;
  for (const child of vnode.children) {
    if (!isVNode(child)) continue;
    const found = findEngineRoot(child);
    if (found !== null) return found;
  }
  return null;
}
