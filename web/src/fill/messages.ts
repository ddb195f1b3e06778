/**
 * The fill page's strings. English is the reference, as in the application's catalogue
 * (messages/en.ts), and uses the same `{name}` placeholders and the same chosen language; the
 * page keeps its own catalogue so that these strings are not in the application's first load.
 */
import { locale } from '../i18n.js';

const en = {
  'fill.appName': 'Fieldkeep',
  'fill.title': 'Fieldkeep forms',
  'fill.home': 'Forms on this device',
  'fill.homeHelp': 'Forms you have opened here can be filled in without a connection; what you finish is sent when the connection returns.',
  'fill.noForms': 'No form has been opened on this device yet. Open a form from its link.',
  'fill.open': 'Open',
  'fill.loading': 'Loading the form…',
  'fill.offlineReady': 'Works offline on this device.',
  'fill.waiting': '{count} submission(s) waiting to be sent',
  'fill.refusedCount': '{count} submission(s) refused by the server',
  'fill.nothingWaiting': 'Nothing waiting to be sent',
  'fill.offline': 'No connection: finished forms are kept on this device.',
  'fill.signInToSend': 'Sign in again to send your submissions.',
  'fill.signIn': 'Sign in',
  'fill.signInToFill': 'Sign in to fill in this form.',
  'fill.sent': 'Sent. Thank you!',
  'fill.editSent': 'The edit was sent.',
  'fill.queued': 'Saved on this device. It will be sent when the connection returns.',
  'fill.refused': 'The server did not accept this submission: {message}',
  'fill.closed': 'This form is not accepting submissions (it is closed).',
  'fill.notFound': 'There is no such form, or it has not been published.',
  'fill.noAccess': 'You have no access to this project.',
  'fill.noRight': 'Your role in this project does not allow sending submissions.',
  'fill.linkRefused': 'This link no longer works: {message}',
  'fill.offlineUnknown': 'There is no connection, and this form has not been opened on this device before.',
  'fill.tooLarge': 'This submission is {size}; the server accepts at most {limit} in one submission. Choose a smaller file or photo.',
  'fill.saveDraft': 'Save as draft',
  'fill.draftSaved': 'Draft saved on this device.',
  'fill.draftFailed': 'The draft could not be saved: {message}',
  'fill.draftNotReady': 'the form has not finished loading.',
  'fill.draftsTitle': 'Drafts',
  'fill.draftsNone': 'No drafts.',
  'fill.resume': 'Resume',
  'fill.draftNotFound': 'That draft is no longer on this device.',
  'fill.noDraftsEncrypted': 'Drafts are not offered for this encrypted form: they would keep your answers unencrypted on this device.',
  'fill.encrypted': 'Encrypted: your answers are encrypted on this device before they are stored or sent.',
  'fill.outboxTitle': 'Waiting to be sent',
  'fill.outboxNone': 'Nothing is waiting.',
  'fill.retry': 'Try again',
  'fill.discard': 'Discard',
  'fill.discardConfirm': 'Discard this submission? Its answers will be lost.',
  'fill.editing': 'Editing submission {instanceId}: sending makes a new version of it.',
  'fill.editNotPossible': 'This submission cannot be edited here: {message}',
  'fill.backToData': 'Back to the data',
  'fill.unknownPage': 'There is nothing at this address.',
  'fill.viaLink': 'through a public link',
  'fill.viaAccount': 'signed in',
} as const;

export type FillMessageKey = keyof typeof en;

const catalogues: Record<string, Partial<Record<FillMessageKey, string>>> = { en };

export function t(key: FillMessageKey, params: Record<string, string | number> = {}): string {
  const text = catalogues[locale.value]?.[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}
