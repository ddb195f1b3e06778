/**
 * The form-filling page (/fill/…): its own small application, so the web application's first
 * load never carries the form engine, and its own stricter-where-it-can policy. The engine
 * itself is loaded only when a form is opened (web-forms.ts).
 */
import { createApp } from 'vue';
import { FillApp } from './FillApp.js';
import { startOutbox } from './outbox.js';
import './fill.css';

if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/fill/sw.js', { scope: '/fill/' });
startOutbox();
// The fragment holds a public link's token: another link pasted into this tab is another page.
window.addEventListener('hashchange', () => location.reload());
createApp(FillApp).mount('#fill');
