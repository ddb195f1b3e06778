/** The application's addresses. Screens are loaded when first visited, so the first load stays small. */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { session } from './session.js';

const routes: RouteRecordRaw[] = [
  { path: '/', name: 'projects', component: () => import('./views/Projects.js') },
  { path: '/sign-in', name: 'sign-in', component: () => import('./views/SignIn.js'), meta: { public: true } },
  { path: '/reset-password', name: 'reset-password', component: () => import('./views/ResetPassword.js'), meta: { public: true } },
  { path: '/account', name: 'account', component: () => import('./views/Account.js') },
  { path: '/where-is-my-data', name: 'where', component: () => import('./views/WhereIsMyData.js') },
  { path: '/p/:projectId', name: 'project', component: () => import('./views/ProjectHome.js') },
  { path: '/p/:projectId/sharing', name: 'sharing', component: () => import('./views/Sharing.js') },
  { path: '/p/:projectId/activity', name: 'project-audit', component: () => import('./views/Audit.js') },
  { path: '/p/:projectId/encryption', name: 'encryption', component: () => import('./views/Encryption.js') },
  { path: '/p/:projectId/f/:formId', name: 'form', component: () => import('./views/FormView.js') },
  { path: '/p/:projectId/f/:formId/data', name: 'data', component: () => import('./views/DataTable.js') },
  { path: '/p/:projectId/f/:formId/preview', name: 'preview', component: () => import('./views/FormPreview.js') },
  { path: '/p/:projectId/f/:formId/exports', name: 'exports', component: () => import('./views/Exports.js') },
  { path: '/p/:projectId/f/:formId/s/:instanceId', name: 'submission', component: () => import('./views/SubmissionView.js') },
  { path: '/admin', name: 'admin', component: () => import('./views/Admin.js') },
  { path: '/admin/activity', name: 'system-audit', component: () => import('./views/Audit.js') },
  { path: '/admin/users', name: 'admin-users', component: () => import('./views/AdminUsers.js') },
  { path: '/admin/backups', name: 'admin-backups', component: () => import('./views/AdminBackups.js') },
  // The form-filling page is a page of its own (its own policy, its own offline support): reached by loading it.
  {
    path: '/fill/:rest(.*)*',
    name: 'fill',
    component: () => import('./views/NotFound.js'),
    meta: { public: true },
    beforeEnter: (to) => {
      window.location.assign(to.fullPath);
      return false;
    },
  },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('./views/NotFound.js'), meta: { public: true } },
];

export const router = createRouter({ history: createWebHistory(), routes, scrollBehavior: () => ({ top: 0 }) });

router.beforeEach((to) => {
  if (to.meta.public !== true && session.user === null) return { name: 'sign-in', query: to.fullPath === '/' ? {} : { next: to.fullPath } };
  return true;
});
