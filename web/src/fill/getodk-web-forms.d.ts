/**
 * ODK Web Forms 0.22.0 ships no type declarations. These say what web-forms.ts, the one module
 * that imports it, relies on; its README and the OdkWebForm component's source are the reference.
 */
declare module '@getodk/web-forms' {
  import type { Component, Plugin } from 'vue';

  /** The form component: props formXml, fetchFormAttachment, missingResourceBehavior, editInstance, trackDevice; event submit. */
  export const OdkWebForm: Component;
  /** Sets up PrimeVue and the engine's base styles on the Vue application that shows the form. */
  export const webFormsPlugin: Plugin;
  /** Handed back to the submit callback: start a new, blank instance of the form. */
  export const POST_SUBMIT__NEW_INSTANCE: unique symbol;
}
