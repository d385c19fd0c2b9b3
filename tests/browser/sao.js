// Helpers to drive the Tryton web client sao 8.0 with playwright-core.
//
// The helpers act like a user (real clicks and key presses through
// playwright) but decide *when* to act, and check the result, by reading
// sao's own state in the page (the Sao global): pending requests, the
// current tab, the record behind a form, the state of a wizard. Nothing here
// sleeps for a fixed time.
//
//   import * as sao from './sao.js';
//   const { context, page } = await sao.launch('/tmp/profile');
//   await sao.login(page, 'http://127.0.0.1:8000/', {database, user, password});
//   await sao.openMenu(page, ['Parties', 'Parties']);
//   await sao.clickButton(page, 'New');
//   await sao.fillField(page, 'name', 'ACME');
//   await sao.save(page);
//   await sao.screenshot(page, 'out/party.png');
//   await context.close();
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
];
export const DEFAULT_TIMEOUT = Number(process.env.SAO_TIMEOUT || 30000);

// Requests sao makes that trytond answers with an error status on a plain
// install: optional customisation files and the English translation (sao
// has its strings in English already). They are not failures.
const EXPECTED_HTTP_ERRORS = [
    /\/custom\.(js|css)$/,
    /\/locale\/en(_US)?\.json$/,
];

export class SaoError extends Error {}

function debug(...args) {
    if (process.env.SAO_DEBUG) {
        console.log('[sao.js]', ...args);
    }
}

// ---------------------------------------------------------------------------
// Browser

// Instrumentation installed in every page before sao starts. It tags the
// DOM element of every Sao.Screen and of every wizard with the object, so a
// helper can go from "the visible form" to the record behind it, and counts
// the views a wizard draws so a step can be told from the next.
function instrument() {
    const install = () => {
        const Sao = window.Sao;
        if (!Sao || !Sao.Screen || Sao.__rig) {
            return;
        }
        Sao.__rig = {instrumented: true, wizards: []};
        const screenInit = Sao.Screen.prototype.init;
        Sao.Screen.prototype.init = function(...args) {
            screenInit.apply(this, args);
            const el = this.screen_container && this.screen_container.el;
            if (el && el[0]) {
                el[0].__saoScreen = this;
                el[0].setAttribute('data-rig-screen', this.model_name);
            }
        };
        const wizardUpdate = Sao.Wizard.prototype.update;
        Sao.Wizard.prototype.update = function(...args) {
            this.__rigViews = (this.__rigViews || 0) + 1;
            return wizardUpdate.apply(this, args);
        };
        for (const [Class, element] of [
                [Sao.Wizard.Dialog, 'dialog'], [Sao.Wizard.Form, 'form']]) {
            const init = Class.prototype.init;
            Class.prototype.init = function(...args) {
                init.apply(this, args);
                this.__rigViews = 0;
                Sao.__rig.wizards.push(this);
                const el = this[element] && this[element][0];
                if (el) {
                    el.__saoWizard = this;
                    el.setAttribute('data-rig-wizard', '');
                }
            };
        }
    };
    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', install);
    } else {
        install();
    }
}

// Start Debian's chromium with a fresh (or given) profile folder.
// Returns {context, page}; close with `await context.close()`.
export async function launch(profileDir, options = {}) {
    const {
        executablePath = CHROMIUM,
        args = [],
        viewport = {width: 1366, height: 900},
        timeout = DEFAULT_TIMEOUT,
        ...rest
    } = options;
    fs.mkdirSync(profileDir, {recursive: true});
    const context = await chromium.launchPersistentContext(profileDir, {
        executablePath,
        headless: true,
        args: [...CHROMIUM_ARGS, ...args],
        viewport,
        locale: 'en-US',
        timezoneId: 'UTC',
        ...rest,
    });
    context.setDefaultTimeout(timeout);
    await context.addInitScript(instrument);
    const page = context.pages()[0] || await context.newPage();
    watch(page);
    return {context, page};
}

// Record console errors, uncaught exceptions and failed requests of a page;
// read them with problems(page).
const PROBLEMS = new WeakMap();
export function watch(page) {
    if (PROBLEMS.has(page)) {
        return;
    }
    const list = [];
    PROBLEMS.set(page, list);
    page.on('pageerror', (err) => list.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
        if (msg.type() === 'error' &&
                !/Failed to load resource/.test(msg.text())) {
            list.push(`console error: ${msg.text()}`);
        }
    });
    page.on('response', (response) => {
        const url = response.url();
        if (response.status() >= 400 &&
                !EXPECTED_HTTP_ERRORS.some((re) => re.test(url))) {
            list.push(`HTTP ${response.status()} ${response.request().method()} ${url}`);
        }
    });
    page.on('requestfailed', (request) => {
        // icons are blob: URLs, dropped when an icon is replaced
        if (request.url().startsWith('blob:') ||
                EXPECTED_HTTP_ERRORS.some((re) => re.test(request.url()))) {
            return;
        }
        list.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`);
    });
}
export function problems(page) {
    return [...(PROBLEMS.get(page) || [])];
}

// ---------------------------------------------------------------------------
// Waiting

// Poll fn(arg) in the page until it returns a truthy value, failing early
// with the text of a sao error dialog (Application Error, UserError
// warning) if one shows up. Returns the value.
export async function until(page, fn, arg, {timeout = DEFAULT_TIMEOUT, what = 'condition', allowDialogs = false} = {}) {
    const source = fn.toString();
    const handle = await page.waitForFunction(
        ({source, arg, allowDialogs}) => {
            if (!allowDialogs) {
                for (const el of document.querySelectorAll(
                        '.error-dialog, .warning-dialog, .concurrency-dialog')) {
                    if (el.classList.contains('in') && el.getClientRects().length) {
                        return {error: el.innerText.trim().replace(/\s+/g, ' ')};
                    }
                }
            }
            // eslint-disable-next-line no-eval
            const value = (0, eval)(`(${source})`)(arg);
            return value ? {value} : false;
        },
        {source, arg, allowDialogs},
        {timeout, polling: 100},
    ).catch((err) => {
        throw new SaoError(`timed out waiting for ${what}: ${err.message.split('\n')[0]}`);
    });
    const result = await handle.jsonValue();
    if (result.error) {
        throw new SaoError(`sao shows an error while waiting for ${what}: ${result.error}`);
    }
    return result.value;
}

// Wait until sao is quiet: no request in flight, no tab action or wizard
// step running, for `quiet` ms in a row (jQuery 3 runs promise callbacks
// asynchronously, so one reply may start the next request a moment later).
export async function settle(page, {quiet = 250, timeout = DEFAULT_TIMEOUT} = {}) {
    // The quiet time counts from now: an action started just before (its
    // first request may leave a tick later) is not missed.
    await page.evaluate(() => {
        window.__rigQuietSince = null;
    });
    await until(page, (quiet) => {
        const Sao = window.Sao;
        if (!Sao || !window.jQuery) {
            return false;
        }
        // A dialog waiting for an answer (confirmation, wizard view) is
        // quiet even if the action that opened it is still "running".
        const asking = [...document.querySelectorAll('.modal.in')].some(
            (el) => el.getClientRects().length);
        const busy = jQuery.active > 0 ||
            jQuery('.modal.fade:not(.in):visible').length > 0 ||  // animating
            (!asking && Sao.Tab.tabs.some((tab) => tab._action_running)) ||
            // A wizard is busy between a button and its next view; it stays
            // __processing while an action it launched (another wizard) is
            // open, and for good once it has ended.
            ((Sao.__rig && Sao.__rig.wizards) || []).some(
                (w) => w.__processing && !w.__waiting_response &&
                    w.__prm.state() === 'pending');
        const now = Date.now();
        if (busy) {
            window.__rigQuietSince = null;
            return false;
        }
        if (!window.__rigQuietSince) {
            window.__rigQuietSince = now;
        }
        return now - window.__rigQuietSince >= quiet;
    }, quiet, {timeout, what: 'sao to settle'});
}

// Like until(), but a question from the server (a UserWarning: "...Do you
// want to proceed?") is answered as `userWarning` says: 'fail' (default:
// throw with its text), 'yes', 'always' (tick "Always ignore" then Yes) or
// 'no'.
export async function untilAnsweringWarnings(page, fn, arg, {userWarning = 'fail', ...options} = {}) {
    const source = fn.toString();
    for (;;) {
        const result = await until(page, ({source, arg}) => {
            const warning = [...document.querySelectorAll(
                '.user-warning-dialog.in:not([data-rig-answered])')]
                .find((el) => el.getClientRects().length);
            if (warning) {
                return {userWarning: warning.innerText.trim().replace(/\s+/g, ' ')};
            }
            const value = (0, eval)(`(${source})`)(arg);
            return value ? {value} : false;
        }, {source, arg}, options);
        if (!result.userWarning) {
            return result.value;
        }
        if (userWarning === 'fail') {
            throw new SaoError(`the server asks: ${result.userWarning}`);
        }
        debug(`answering "${userWarning}" to: ${result.userWarning}`);
        const dialog = page.locator('.user-warning-dialog.in:not([data-rig-answered])').last();
        await dialog.evaluate((el) => el.setAttribute('data-rig-answered', ''));
        const answered = page.locator('.user-warning-dialog[data-rig-answered]').last();
        if (userWarning === 'always') {
            await answered.locator('input[type=checkbox]').check();
        }
        await answered.locator('.modal-footer .btn-' +
            (userWarning === 'no' ? 'link' : 'primary')).click();
    }
}

// ---------------------------------------------------------------------------
// Login

// In-page state of a freshly loaded sao: 'logged' (a stored session was
// restored), 'select' or 'input' (how the login dialog offers databases),
// or 'warning:<text>'.
function loginDialogState(page, timeout) {
    return until(page, () => {
        if (window.Sao && Sao.Session.current_session &&
                Sao.Session.current_session.user_id) {
            return 'logged';
        }
        const warning = document.querySelector('.warning-dialog');
        if (warning && warning.getClientRects().length) {
            return 'warning:' + warning.innerText.trim().replace(/\s+/g, ' ');
        }
        const dialog = document.querySelector('.login-dialog.in');
        if (!dialog) {
            return false;
        }
        const select = dialog.querySelector('select#database');
        const input = dialog.querySelector('input#database');
        if (select && select.getClientRects().length && select.options.length) {
            return 'select';
        }
        if (input && input.getClientRects().length) {
            return 'input';
        }
        return false;
    }, null, {timeout, what: 'the login dialog', allowDialogs: true});
}

// Open sao at `url` and log in. Handles the database as a prefilled
// read-only input (one database on the server) or as a select (several),
// the password asked in a second dialog, and the "Module Configuration"
// wizard that opens in a tab on the first admin logins:
//   configWizard: 'cancel' (default) closes it with its Cancel button;
//                 'keep' returns with it open (the menu loads once it ends).
export async function login(page, url, {database, user = 'admin', password,
        configWizard = 'cancel', timeout = DEFAULT_TIMEOUT} = {}) {
    if (!database) {
        throw new SaoError('login: database is required');
    }
    watch(page);
    const target = `${url.replace(/#.*$/, '')}#${encodeURIComponent(database)}`;
    let state;
    for (let attempt = 0; ; attempt++) {
        // Full load (a change of the #fragment alone would not restart sao).
        if (page.url() !== 'about:blank') {
            await page.goto('about:blank');
        }
        await page.goto(target);
        await page.evaluate(instrument);  // no-op when the init script ran
        state = await loginDialogState(page, timeout);
        if (state !== 'logged') {
            break;
        }
        if (attempt) {
            throw new SaoError('login: sao keeps restoring a stored session');
        }
        // A session stored by an earlier login with this profile: drop it,
        // so the login is the one asked for.
        debug('dropping a stored session');
        await page.evaluate((database) => {
            localStorage.removeItem(`sao_session_${database}`);
            sessionStorage.clear();
        }, database);
    }
    if (state.startsWith('warning:')) {
        // e.g. "Version mismatch" when the server is not 8.0
        throw new SaoError(`login: ${state.slice(8)}`);
    }
    debug(`login dialog: database as ${state}`);
    const dialog = page.locator('.login-dialog');
    if (state === 'select') {
        const names = await dialog.locator('select#database option')
            .evaluateAll((options) => options.map((o) => o.value));
        if (!names.includes(database)) {
            throw new SaoError(`login: database ${database} not offered (${names.join(', ')})`);
        }
        await dialog.locator('select#database').selectOption(database);
    } else {
        const input = dialog.locator('input#database');
        if (await input.evaluate((el) => el.readOnly)) {
            const value = await input.inputValue();
            if (value !== database) {
                throw new SaoError(`login: server only offers database ${value}`);
            }
        } else {
            await input.fill(database);
        }
    }
    await dialog.locator('input#login').fill(user);
    await dialog.locator('button[type=submit]').click();

    // Answer the password question(s) until the session exists.
    let answered = 0;
    for (;;) {
        const next = await until(page, () => {
            if (Sao.Session.current_session &&
                    Sao.Session.current_session.user_id) {
                return 'logged';
            }
            const ask = document.querySelector(
                '.ask-dialog.in:not([data-rig-answered])');
            if (ask) {
                return 'ask:' + (ask.querySelector('input')?.name || '');
            }
            const login = document.querySelector('.login-dialog.in');
            if (login && login.querySelector('.has-error') &&
                    !login.querySelector('button[disabled]')) {
                return 'refused';
            }
            return false;
        }, null, {timeout, what: 'the login to finish'});
        if (next === 'logged') {
            break;
        }
        if (next === 'refused') {
            throw new SaoError(`login: refused for ${user} on ${database}`);
        }
        const name = next.slice(4);
        if (name !== 'password') {
            throw new SaoError(`login: server asks for "${name}", not handled`);
        }
        if (answered++) {
            throw new SaoError(`login: wrong password for ${user} on ${database}`);
        }
        if (password === undefined) {
            throw new SaoError('login: server asks a password and none was given');
        }
        await page.locator('.ask-dialog.in:not([data-rig-answered])')
            .evaluate((el) => el.setAttribute('data-rig-answered', 'password'));
        const ask = page.locator('.ask-dialog[data-rig-answered=password]');
        await ask.locator('input[name=password]').fill(password);
        await ask.locator('.modal-footer .btn-primary').click();
    }

    // After login sao runs the user's login actions (the configuration
    // wizard for admin), then draws the menu.
    for (;;) {
        const next = await until(page, () => {
            const tab = Sao.Tab.tabs.get_current();
            if (tab && tab.wizard && tab.wizard.action ===
                    'ir.module.config_wizard' && tab.wizard.__waiting_response) {
                return 'config';
            }
            if (document.querySelector('#menu tr')) {
                return 'menu';
            }
            return false;
        }, null, {timeout, what: 'the menu after login'});
        if (next === 'menu') {
            break;
        }
        if (configWizard === 'keep') {
            await settle(page, {timeout});
            return;
        }
        await wizardButton(page, 'Cancel', {timeout});
    }
    await waitMenu(page, {timeout});
}

// Wait until the menu is drawn and is the one sao works with.
// When a wizard ending with "reload menu" finishes during login (the
// configuration wizard does), sao draws the menu twice at once and the
// tree left on screen may not be Sao.main_menu_screen: its entries then
// open nothing. Redraw it once in that case, as the wizard asked.
export async function waitMenu(page, {timeout = DEFAULT_TIMEOUT} = {}) {
    const consistent = () => {
        const menu = Sao.main_menu_screen;
        return !!(menu && menu.current_view && menu.current_view.rows &&
            menu.current_view.rows.length &&
            menu.screen_container.content_box[0].isConnected &&
            menu.current_view.rows[0].el[0].isConnected);
    };
    await settle(page, {timeout});
    if (!await page.evaluate(consistent)) {
        debug('menu drawn twice at once: redrawing it');
        await page.evaluate(() => Sao.menu());
        await settle(page, {timeout});
    }
    await until(page, consistent, null, {timeout, what: 'the menu'});
}

// ---------------------------------------------------------------------------
// Scope: where the user is working (topmost sao dialog, else current tab)

// Tag the element of the current scope with data-rig-scope and return a
// description {kind: 'dialog'|'tab'|'none', cls}.
async function markScope(page) {
    return page.evaluate(() => {
        for (const el of document.querySelectorAll('[data-rig-scope]')) {
            el.removeAttribute('data-rig-scope');
        }
        const modals = [...document.querySelectorAll('.modal.in')].filter(
            (el) => el.getClientRects().length);
        const modal = modals[modals.length - 1];
        if (modal) {
            modal.setAttribute('data-rig-scope', '');
            return {kind: 'dialog', cls: modal.className};
        }
        const pane = document.querySelector('#tabcontent > .tab-pane.active');
        if (pane) {
            pane.setAttribute('data-rig-scope', '');
            return {kind: 'tab', cls: pane.firstElementChild?.className};
        }
        return {kind: 'none'};
    });
}

// In-page: find the screen of the current scope that shows field `name`
// in a form, and its widget. Returns null when not (yet) there.
function findFieldInPage(name) {
    const scope = document.querySelector('[data-rig-scope]');
    if (!scope) {
        return null;
    }
    const screens = [];
    for (const el of scope.querySelectorAll('[data-rig-screen]')) {
        if (el.__saoScreen) {
            screens.push(el.__saoScreen);
        }
    }
    // Without instrumentation: the screen of the current tab or wizard.
    const tab = Sao.Tab.tabs.get_current();
    if (!screens.length && tab && scope.classList.contains('tab-pane')) {
        if (tab.screen) {
            screens.push(tab.screen);
        }
        if (tab.wizard && tab.wizard.screen) {
            screens.push(tab.wizard.screen);
        }
    }
    for (const screen of screens) {
        const view = screen.current_view;
        if (!view || view.view_type !== 'form' || !view.widgets) {
            continue;
        }
        const widgets = (view.widgets[name] || []).filter(
            (w) => w.visible && w.el && w.el.is(':visible'));
        if (widgets.length) {
            return {screen, widget: widgets[0], record: screen.current_record};
        }
    }
    return null;
}

// ---------------------------------------------------------------------------
// Menu

// Open a menu entry by its path of names, e.g. ['Parties', 'Parties'].
// via: 'tree' (default) expands the menu tree and clicks the entry;
//      'search' types the last name in the global search box and picks the
//      entry whose full name is the path joined with ' / '.
// Waits for the new tab (or wizard dialog) and for sao to settle.
// Returns {kind: 'tab'|'dialog', name}.
export async function openMenu(page, menuPath, {via = 'tree', timeout = DEFAULT_TIMEOUT} = {}) {
    await settle(page, {timeout});
    const before = await page.evaluate(() => ({
        tabs: Sao.Tab.tabs.map((t) => t.id),
        current: Sao.Tab.tabs.get_current()?.id || null,
        modals: document.querySelectorAll('.modal.in').length,
    }));
    await page.evaluate(() => {
        window.__rigOpenedAt = null;
    });
    if (via === 'search') {
        await openMenuBySearch(page, menuPath, timeout);
    } else {
        await openMenuByTree(page, menuPath, timeout);
    }
    const opened = await until(page, (before) => {
        if (!window.__rigOpenedAt) {
            window.__rigOpenedAt = Date.now();
        }
        const current = Sao.Tab.tabs.get_current();
        const modals = document.querySelectorAll('.modal.in').length;
        if (modals > before.modals) {
            const modal = [...document.querySelectorAll('.modal.in')].pop();
            return {kind: 'dialog',
                name: modal.querySelector('.modal-title')?.textContent || ''};
        }
        // A new tab is in Sao.Tab.tabs before it is drawn and shown: wait
        // for it to be the current one.
        const added = Sao.Tab.tabs.filter((t) => !before.tabs.includes(t.id));
        const ready = current && (current.view_prm === undefined ||
            current.view_prm.state() === 'resolved');
        if (added.length) {
            if (ready && added.includes(current)) {
                return {kind: 'tab', name: current.name_long};
            }
            return false;
        }
        if (ready && current.id !== before.current) {
            return {kind: 'tab', name: current.name_long};
        }
        // The entry's tab was already open and current: sao only shows it.
        // Its first request leaves at once, so 1.5 s without any means
        // nothing new is coming.
        if (jQuery.active === 0 && current && current.id === before.current &&
                Date.now() - window.__rigOpenedAt > 1500 &&
                !jQuery('.modal.fade:not(.in):visible').length) {
            return {kind: 'tab', name: current.name_long, reused: true};
        }
        if (jQuery.active > 0) {
            window.__rigOpenedAt = Date.now();
        }
        return false;
    }, before, {timeout, what: `menu ${menuPath.join(' / ')} to open`});
    await settle(page, {timeout});
    return opened;
}

async function openMenuByTree(page, menuPath, timeout) {
    for (let depth = 0; depth < menuPath.length; depth++) {
        const last = depth === menuPath.length - 1;
        // Find the row of menuPath[0..depth] among the drawn rows.
        const info = await until(page, ({names}) => {
            const view = Sao.main_menu_screen && Sao.main_menu_screen.current_view;
            if (!view || !view.rows) {
                return false;
            }
            let rows = view.rows, row = null;
            for (const name of names) {
                row = rows.find((r) => r.record._values.name === name);
                if (!row) {
                    return false;
                }
                rows = row.rows;
            }
            if (!row.el[0].isConnected) {
                return false;
            }
            for (const el of document.querySelectorAll('[data-rig-menu]')) {
                el.removeAttribute('data-rig-menu');
            }
            row.el[0].setAttribute('data-rig-menu', '');
            return {expanded: row.is_expanded(),
                children: !!(row.expander && row.expander.css('visibility') === 'visible')};
        }, {names: menuPath.slice(0, depth + 1)},
        {timeout, what: `menu entry ${menuPath.slice(0, depth + 1).join(' / ')}`});
        const row = page.locator('#menu tr[data-rig-menu]');
        await row.scrollIntoViewIfNeeded();
        if (last) {
            // Activate: a click on the name cell opens the entry's action.
            await row.locator('td .cell .widget').first().click();
            return;
        }
        if (!info.expanded) {
            await row.locator('.expander').first().click();
        }
        // Wait for the children rows to be drawn.
        await until(page, ({names}) => {
            let rows = Sao.main_menu_screen.current_view.rows, row = null;
            for (const name of names) {
                row = rows.find((r) => r.record._values.name === name);
                if (!row) {
                    return false;
                }
                rows = row.rows;
            }
            return row.is_expanded() && row.rows.length > 0 &&
                row.rows.every((r) => r.el[0].isConnected);
        }, {names: menuPath.slice(0, depth + 1)},
        {timeout, what: `menu entry ${menuPath.slice(0, depth + 1).join(' / ')} to expand`});
    }
}

async function openMenuBySearch(page, menuPath, timeout) {
    const full = menuPath.join(' / ');
    const entry = page.locator('#global-search-entry');
    await entry.fill('');
    await entry.pressSequentially(menuPath[menuPath.length - 1]);
    await until(page, (full) => {
        const item = [...document.querySelectorAll(
            '.global-search-container li.completion')].find((li) =>
            li.querySelector('.global-search-text')?.textContent === full &&
            li.getClientRects().length);
        if (!item) {
            return false;
        }
        for (const el of document.querySelectorAll('[data-rig-completion]')) {
            el.removeAttribute('data-rig-completion');
        }
        item.setAttribute('data-rig-completion', '');
        return true;
    }, full, {timeout, what: `global search result "${full}"`});
    await page.locator('li[data-rig-completion] > a').click();
}

// ---------------------------------------------------------------------------
// Buttons

// Click a visible, enabled button of the current scope (topmost sao dialog,
// else the current tab) whose title or text is `label` (case-insensitive;
// toolbar buttons are matched by their title: 'New', 'Save', 'Delete',
// 'Switch', ...). The scope's own bar is searched first (the tab toolbar,
// a dialog's or tab wizard's footer), then the rest of the scope, so 'Delete'
// is the record's, not the one of a one2many list in the form. `within`
// (CSS selector) restricts the search to part of the scope.
// Then waits for sao to settle unless settle: false.
export async function clickButton(page, label, {settle: doSettle = true, within = null, timeout = DEFAULT_TIMEOUT} = {}) {
    await settle(page, {timeout});
    const found = await until(page, ({label, within}) => {
        for (const el of document.querySelectorAll('[data-rig-button]')) {
            el.removeAttribute('data-rig-button');
        }
        const modals = [...document.querySelectorAll('.modal.in')].filter(
            (el) => el.getClientRects().length);
        const scope = modals[modals.length - 1] ||
            document.querySelector('#tabcontent > .tab-pane.active');
        if (!scope) {
            return false;
        }
        const regions = within ? [...scope.querySelectorAll(within)] : [
            ...scope.querySelectorAll(':scope > .panel > nav.toolbar, ' +
                ':scope > .modal-dialog > .modal-content > .modal-footer, ' +
                '.wizard-form > .modal-footer'),
            scope];
        const wanted = label.toLowerCase();
        for (const region of regions) {
            const button = [...region.querySelectorAll('button, a[role=menuitem]')]
                .find((el) => el.getClientRects().length && !el.disabled &&
                    !el.closest('.disabled') &&
                    ((el.getAttribute('title') || '').toLowerCase() === wanted ||
                     el.textContent.trim().toLowerCase() === wanted));
            if (button) {
                button.setAttribute('data-rig-button', '');
                return 'button';
            }
        }
        // Entries without a toolbar button (Delete, Duplicate, View Logs...)
        // are in the menu under the tab's title.
        const entry = !within && [...scope.querySelectorAll(
            ':scope > .panel > nav.toolbar ul[role=menu] > li > a[role=menuitem]')]
            .find((el) => !el.closest('li.disabled') &&
                el.textContent.trim().toLowerCase() === wanted);
        if (entry) {
            entry.setAttribute('data-rig-button', '');
            return 'menu';
        }
        return false;
    }, {label, within}, {timeout, what: `an enabled button "${label}"`});
    if (found === 'menu') {
        await page.locator('#tabcontent > .tab-pane.active > .panel > nav.toolbar ' +
            '.navbar-brand.dropdown-toggle').click();
    }
    await page.locator('[data-rig-button]').click();
    if (doSettle) {
        await settle(page, {timeout});
    }
}

// Close the error, warning or message dialog in front (after a helper
// failed with "sao shows an error ..."). Returns its text, or null when
// there is none.
export async function dismissError(page, {timeout = DEFAULT_TIMEOUT} = {}) {
    const text = await page.evaluate(() => {
        const dialog = [...document.querySelectorAll(
            '.error-dialog.in, .warning-dialog.in, .message-dialog.in')]
            .filter((el) => el.getClientRects().length).pop();
        if (!dialog) {
            return null;
        }
        for (const el of document.querySelectorAll('[data-rig-dismiss]')) {
            el.removeAttribute('data-rig-dismiss');
        }
        dialog.setAttribute('data-rig-dismiss', '');
        return dialog.innerText.trim().replace(/\s+/g, ' ');
    });
    if (text === null) {
        return null;
    }
    await page.locator('[data-rig-dismiss] .modal-footer .btn-primary').click();
    await until(page, () => !document.querySelector('[data-rig-dismiss].in'),
        null, {timeout, what: 'the dialog to close', allowDialogs: true});
    return text;
}

// Pick `label` in one of the current tab's toolbar menus: 'action'
// (Launch action: wizards and buttons), 'relate' or 'print'. Waits for
// what it opens (e.g. a wizard dialog) to settle.
export async function toolbarAction(page, label, {menu = 'action', timeout = DEFAULT_TIMEOUT} = {}) {
    await settle(page, {timeout});
    await page.locator(`#tabcontent > .tab-pane.active button#${menu}`).click();
    await until(page, ({menu, label}) => {
        const item = [...document.querySelectorAll(
            `#tabcontent > .tab-pane.active ul[aria-labelledby="${menu}"] a[role=menuitem]`)]
            .find((a) => a.textContent.trim() === label && a.getClientRects().length);
        if (!item) {
            return false;
        }
        item.setAttribute('data-rig-menuitem', '');
        return true;
    }, {menu, label}, {timeout, what: `"${label}" in the ${menu} menu`});
    await page.locator('a[data-rig-menuitem]').first().click();
    await page.evaluate(() => document.querySelectorAll('[data-rig-menuitem]')
        .forEach((el) => el.removeAttribute('data-rig-menuitem')));
    await settle(page, {timeout});
}

// ---------------------------------------------------------------------------
// Fields

// Read the value of field `name` in the current scope's form:
// {value: raw value, text: as displayed, widget: widget class}.
export async function fieldValue(page, name, {timeout = DEFAULT_TIMEOUT} = {}) {
    await markScope(page);
    return until(page, ({name, finder}) => {
        const found = (0, eval)(`(${finder})`)(name);
        if (!found || !found.record) {
            return false;
        }
        const field = found.record.model.fields[name];
        let value = field.get(found.record);
        if (value instanceof Object && !Array.isArray(value) && value.toISOString) {
            value = value.toISOString();
        }
        return {value: value === undefined ? null : value,
            text: field.get_client(found.record),
            widget: found.widget.class_};
    }, {name, finder: findFieldInPage.toString()}, {timeout, what: `field ${name}`});
}

// Set field `name` in the current scope's form (tab or dialog) as a user
// would, then wait until sao's record holds the value. A form drawn before
// its defaults arrive is redrawn, which wipes what was typed: the helper
// types again until the record has the value.
// Values: text for char/text/number/date widgets (as typed), key or label
// for selections, true/false for booleans, the record name for many2one
// (picked from the completion list; '' or null clears it).
export async function fillField(page, name, value, {timeout = DEFAULT_TIMEOUT, attempts = 5} = {}) {
    const deadline = Date.now() + timeout;
    const left = () => Math.max(1000, deadline - Date.now());
    let last = null;
    for (let attempt = 0; attempt < attempts; attempt++) {
        await settle(page, {timeout: left()});
        await markScope(page);
        const target = await until(page, ({name, finder}) => {
            const found = (0, eval)(`(${finder})`)(name);
            if (!found || !found.record) {
                return false;
            }
            const w = found.widget;
            const el = (w.labelled || w.input || w.entry || w.select || w.el)[0];
            if (!el || el.readOnly || el.disabled) {
                return false;
            }
            for (const old of document.querySelectorAll('[data-rig-field], [data-rig-clear]')) {
                old.removeAttribute('data-rig-field');
                old.removeAttribute('data-rig-clear');
            }
            el.setAttribute('data-rig-field', name);
            let set = false;
            if (w.but_secondary && w.has_target) {  // many2one, reference
                set = w.has_target(found.record.field_get(name));
                w.but_secondary[0].setAttribute('data-rig-clear', name);
            }
            return {widget: w.class_, tag: el.tagName.toLowerCase(), type: el.type || '', set};
        }, {name, finder: findFieldInPage.toString()},
        {timeout: left(), what: `an editable field ${name}`});
        const input = page.locator(`[data-rig-field="${name}"]`);

        if (target.tag === 'select') {
            const option = await input.evaluate((el, value) => {
                const options = [...el.options];
                const byKey = options.find((o) => o.value === JSON.stringify(value));
                const byLabel = options.find((o) => o.textContent === String(value));
                return (byKey || byLabel || {}).value ?? null;
            }, value);
            if (option === null) {
                const labels = await input.evaluate(
                    (el) => [...el.options].map((o) => o.textContent));
                throw new SaoError(`fillField: ${name} has no option ${value} (${labels.join(', ')})`);
            }
            await input.selectOption(option);
        } else if (target.type === 'checkbox') {
            await input.setChecked(Boolean(value));
        } else if ((target.widget === 'form-many2one' ||
                target.widget === 'form-reference') &&
                (value === null || value === '')) {
            // The "Clear the field" button: emptying the text and leaving
            // with Tab would open a search dialog on a required field.
            if (target.set) {
                await page.locator(`[data-rig-clear="${name}"]`).click();
            }
        } else if (target.widget === 'form-many2one' || target.widget === 'form-reference') {
            await input.fill('');
            await input.pressSequentially(String(value));
            await until(page, ({name, text}) => {
                const el = document.querySelector(`[data-rig-field="${name}"]`);
                const box = el && el.closest('.dropdown');
                const item = box && box.classList.contains('open') &&
                    [...box.querySelectorAll('li.completion')].find(
                        (li) => li.textContent.trim() === text);
                if (!item) {
                    return false;
                }
                for (const el of document.querySelectorAll('[data-rig-completion]')) {
                    el.removeAttribute('data-rig-completion');
                }
                item.setAttribute('data-rig-completion', '');
                return true;
            }, {name, text: String(value)},
            {timeout: left(), what: `completion "${value}" for ${name}`});
            await page.locator('li[data-rig-completion] > a').click();
        } else {
            await input.fill(String(value));
            // sao reads the widget on "change": leave the field.
            await input.press('Tab');
        }

        try {
            await until(page, ({name, value, finder}) => {
                const found = (0, eval)(`(${finder})`)(name);
                if (!found || !found.record) {
                    return false;
                }
                const field = found.record.model.fields[name];
                const raw = field.get(found.record);
                const text = field.get_client(found.record);
                const wanted = String(value);
                return raw === value || String(text) === wanted ||
                    (typeof raw !== 'object' && String(raw) === wanted) ||
                    (text !== '' && !isNaN(Number(text)) && Number(text) === Number(value));
            }, {name, value, finder: findFieldInPage.toString()},
            {timeout: Math.min(5000, left()), what: `field ${name} to hold ${value}`});
            await settle(page, {timeout: left()});
            // A late redraw may still have replaced the record: check again.
            const now = await fieldValue(page, name, {timeout: left()});
            if (sameValue(now, value)) {
                return now;
            }
            last = now;
        } catch (err) {
            if (!(err instanceof SaoError) || /shows an error/.test(err.message)) {
                throw err;
            }
            last = err.message;
        }
    }
    throw new SaoError(`fillField: ${name} does not hold ${value} after ${attempts} attempts (${JSON.stringify(last)})`);
}

function sameValue(current, value) {
    const wanted = String(value);
    return current.value === value || String(current.text) === wanted ||
        (typeof current.value !== 'object' && String(current.value) === wanted) ||
        (current.text !== '' && !isNaN(Number(current.text)) &&
            Number(current.text) === Number(value));
}

// ---------------------------------------------------------------------------
// Saving

// Click the toolbar's Save of the current tab and wait until it is saved.
export async function save(page, {timeout = DEFAULT_TIMEOUT, userWarning = 'fail'} = {}) {
    await settle(page, {timeout});
    await markSavedMessages(page);
    await clickButton(page, 'Save', {settle: false, timeout});
    return waitSaved(page, {timeout, userWarning});
}

async function markSavedMessages(page) {
    await page.evaluate(() => {
        for (const el of document.querySelectorAll('.infobar .alert')) {
            el.setAttribute('data-rig-seen', '');
        }
    });
}

// Wait until the current tab shows a new "Record saved." message and its
// record is stored (positive id, nothing modified). Fails with the
// message shown if sao refuses the record. Returns the record id.
export async function waitSaved(page, {timeout = DEFAULT_TIMEOUT, userWarning = 'fail'} = {}) {
    const result = await untilAnsweringWarnings(page, () => {
        const tab = Sao.Tab.tabs.get_current();
        if (!tab || !tab.info_bar) {
            return false;
        }
        const alerts = [...tab.info_bar.el[0].querySelectorAll(
            '.alert:not([data-rig-seen])')];
        const danger = alerts.find((el) => el.classList.contains('alert-danger'));
        if (danger) {
            return {error: danger.textContent.replace('×', '').trim()};
        }
        const saved = alerts.some((el) => el.textContent.includes('Record saved.'));
        const record = tab.screen && tab.screen.current_record;
        if (saved && record && record.id >= 0 && !record.modified &&
                !tab._action_running) {
            return {id: record.id};
        }
        return false;
    }, null, {timeout, what: '"Record saved."', userWarning});
    if (result.error) {
        throw new SaoError(`save refused: ${result.error}`);
    }
    await markSavedMessages(page);
    await settle(page, {timeout});
    return result.id;
}

// ---------------------------------------------------------------------------
// Wizards (in a dialog, or in a tab for wizards opened with window=True)

// In-page: the wizard of the current scope, tagged data-rig-wizard-current.
function currentWizardInPage() {
    for (const el of document.querySelectorAll('[data-rig-wizard-current]')) {
        el.removeAttribute('data-rig-wizard-current');
    }
    const modals = [...document.querySelectorAll('.modal.in')].filter(
        (el) => el.getClientRects().length);
    const modal = modals[modals.length - 1];
    let wizard = null, el = null;
    if (modal) {
        if (modal.__saoWizard) {
            wizard = modal.__saoWizard;
            el = modal;
        }
    } else {
        const tab = Sao.Tab.tabs.get_current();
        if (tab && tab.wizard) {
            wizard = tab.wizard;
            el = document.getElementById(tab.id);
        }
    }
    if (el) {
        el.setAttribute('data-rig-wizard-current', '');
    }
    return wizard;
}

// Describe the current wizard: {action, state, end, buttons: [labels]},
// or null when there is none.
export async function currentWizard(page) {
    return page.evaluate((finder) => {
        const wizard = (0, eval)(`(${finder})`)();
        if (!wizard) {
            return null;
        }
        return {
            action: wizard.action,
            state: wizard.screen_state,
            end: wizard.end_state,
            name: wizard.name,
            buttons: Object.values(wizard.states).map(
                (b) => b.attributes.string),
        };
    }, currentWizardInPage.toString());
}

// Click button `label` of the current wizard and wait for the outcome:
// the next view drawn (returns {state, ended: false}), or the wizard
// finished and its dialog/tab closed (returns {ended: true}). Fails with
// sao's message if the step is refused (invalid form, UserError).
export async function wizardButton(page, label, {timeout = DEFAULT_TIMEOUT, userWarning = 'fail'} = {}) {
    await settle(page, {timeout});
    const before = await until(page, ({finder, label}) => {
        const wizard = (0, eval)(`(${finder})`)();
        // Waiting for the user: a view is drawn (__waiting_response), or a
        // step was refused by the client (invalid form: both flags false).
        if (!wizard || (wizard.__processing && !wizard.__waiting_response)) {
            return false;
        }
        const wanted = label.toLowerCase();
        for (const el of document.querySelectorAll('[data-rig-button]')) {
            el.removeAttribute('data-rig-button');
        }
        for (const [state, button] of Object.entries(wizard.states)) {
            const string = (button.attributes.string || '').toLowerCase();
            if (string === wanted || state.toLowerCase() === wanted) {
                if (button.el.prop('disabled') || !button.el.is(':visible')) {
                    return false;
                }
                button.el[0].setAttribute('data-rig-button', '');
                wizard.__rigTarget = state;
                for (const alert of wizard.info_bar.el[0].querySelectorAll('.alert')) {
                    alert.setAttribute('data-rig-seen', '');
                }
                return {views: wizard.__rigViews || 0, state: wizard.screen_state,
                    target: state, end: wizard.end_state,
                    index: Sao.__rig ? Sao.__rig.wizards.indexOf(wizard) : -1};
            }
        }
        return false;
    }, {finder: currentWizardInPage.toString(), label},
    {timeout, what: `wizard button "${label}"`});
    if (before.index < 0) {
        throw new SaoError('wizardButton: page not instrumented (use launch())');
    }
    await page.locator('[data-rig-wizard-current] [data-rig-button]').click();
    const outcome = await untilAnsweringWarnings(page, (before) => {
        const wizard = Sao.__rig.wizards[before.index];
        const danger = [...wizard.info_bar.el[0].querySelectorAll(
            '.alert-danger:not([data-rig-seen])')];
        if (danger.length) {
            return {error: danger.map((el) => el.textContent.replace('×', '').trim()).join(' ')};
        }
        if (wizard.state === wizard.end_state) {
            // Ended: wait for its dialog to be removed or its tab closed.
            const dialog = wizard.dialog && wizard.dialog[0];
            const tab = wizard.tab;
            const gone = dialog ? !dialog.isConnected :
                (!tab || !Sao.Tab.tabs.includes(tab));
            return gone && wizard.__prm.state() !== 'pending' ? {ended: true} : false;
        }
        if ((!wizard.__processing || wizard.__waiting_response) &&
                (wizard.__rigViews || 0) > before.views) {
            // Next view drawn (an action it launched, e.g. another wizard
            // in a tab, may now be in front of it).
            return {ended: false, state: wizard.screen_state};
        }
        return false;
    }, before, {timeout, what: `wizard step "${label}"`, userWarning});
    if (outcome.error) {
        throw new SaoError(`wizard refused "${label}": ${outcome.error}`);
    }
    await settle(page, {timeout});
    return outcome;
}

// Run the current wizard to its end. `steps` is a list of
// {fields: {name: value, ...}, button: 'Label'}; after the last step the
// wizard must have ended (its dialog closed or its tab gone).
export async function runWizard(page, steps, {timeout = DEFAULT_TIMEOUT, userWarning = 'fail'} = {}) {
    let outcome = null;
    for (const [i, step] of steps.entries()) {
        for (const [name, value] of Object.entries(step.fields || {})) {
            await fillField(page, name, value, {timeout});
        }
        if (step.screenshot) {
            await screenshot(page, step.screenshot);
        }
        outcome = await wizardButton(page, step.button,
            {timeout, userWarning: step.userWarning || userWarning});
        if (outcome.ended && i < steps.length - 1) {
            throw new SaoError(`runWizard: wizard ended at step ${i + 1} ("${step.button}")`);
        }
    }
    if (!outcome || !outcome.ended) {
        const wizard = await currentWizard(page);
        throw new SaoError(`runWizard: wizard still open in state ${wizard && wizard.state}`);
    }
    return outcome;
}

// ---------------------------------------------------------------------------
// Misc

// Text of the messages in the current tab's info bar.
export async function infoMessages(page) {
    return page.evaluate(() => {
        const tab = Sao.Tab.tabs.get_current();
        if (!tab || !tab.info_bar) {
            return [];
        }
        return [...tab.info_bar.el[0].querySelectorAll('.alert')].map(
            (el) => el.textContent.replace('×', '').trim());
    });
}

// Wait for sao to settle and write a PNG of the viewport to `file`.
export async function screenshot(page, file, {fullPage = false, settle: doSettle = true} = {}) {
    fs.mkdirSync(path.dirname(path.resolve(file)), {recursive: true});
    if (doSettle) {
        await settle(page).catch(() => {});
    }
    await page.screenshot({path: file, fullPage, animations: 'disabled'});
    return file;
}
