// The dashboard's composition root: the API client, the session, the language and the router are
// made here, once, and handed to the pages with provide/inject.
import { createApp } from 'vue';
import { createRouter, createWebHashHistory } from 'vue-router';
import App from './App.vue';
import { createClient } from './api/client';
import { createOpenAlarms, OPEN_ALARMS } from './alarms/open';
import { API } from './api/inject';
import { createI18n, I18N } from './i18n';
import { createSession, SESSION, type Session } from './session';
import LoginPage from './pages/LoginPage.vue';
import './styles.css';

// Hash history: every page is index.html to the server, so the central serves one file and no
// path of the dashboard can shadow an API path.
const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/overview' },
    { path: '/login', component: LoginPage, meta: { public: true } },
    // Loaded when first opened: the login page does not wait for ECharts and Leaflet.
    { path: '/overview', component: () => import('./pages/OverviewPage.vue') },
    { path: '/map', component: () => import('./pages/MapPage.vue') },
    { path: '/alarms', component: () => import('./pages/AlarmsPage.vue') },
    { path: '/regions', component: () => import('./pages/RegionsPage.vue') },
    { path: '/cameras', component: () => import('./pages/CamerasPage.vue') },
    { path: '/cameras/:site/:camera', component: () => import('./pages/CameraPage.vue') },
    // Hidden from others as the header hides its link; the API refuses them the log itself (403).
    { path: '/audit', component: () => import('./pages/AuditPage.vue'), meta: { admin: true } },
    { path: '/reports', component: () => import('./pages/ReportsPage.vue') },
    { path: '/users', component: () => import('./pages/UsersPage.vue'), meta: { admin: true } },
    { path: '/:rest(.*)', redirect: '/overview' },
  ],
});

let session: Session | undefined;
const api = createClient({
  cookies: () => document.cookie,
  onUnauthorized: () => {
    session?.ended();
    if (router.currentRoute.value.path !== '/login') void router.push({ path: '/login', query: { next: router.currentRoute.value.fullPath } });
  },
});
session = createSession(api);
const signedIn = session;

let asked = false;
router.beforeEach(async (to) => {
  if (!asked) {
    asked = true;
    await signedIn.load().catch(() => null);
  }
  if (to.meta.public) return true;
  if (!signedIn.me.value) return { path: '/login', query: { next: to.fullPath } };
  return to.meta.admin && signedIn.me.value.role !== 'admin' ? { path: '/overview' } : true;
});

const app = createApp(App);
app.provide(API, api);
app.provide(SESSION, signedIn);
app.provide(OPEN_ALARMS, createOpenAlarms(api));
app.provide(I18N, createI18n(window.localStorage));
app.use(router);
app.mount('#app');
