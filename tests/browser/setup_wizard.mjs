#!/usr/bin/env node
// The shared_schema set-up in the web client, one phase per run, as an
// administrator would do it in sao. tests/test_browser.py runs the phases
// in order and checks the database between them.
//
//   node setup_wizard.mjs PHASE
//
// Phases:
//   primary    log in to the primary, open Administration > Shared Schema >
//              Shared Schema, set the owner role, save, click "Parties and
//              Countries", run "Set up Shared Schema" (party prefix
//              SAO_PARTY_PREFIX) to its end
//   secondary  log in to a secondary, set role Secondary, the primary
//              schema and the owner role, save, run "Set up Shared Schema"
//   parties    log in to the secondary (party activated there), set its
//              party code prefix, create party SAO_PARTY_NAME; log in to the
//              primary (SAO_PRIMARY_URL) and find it in Parties > Parties
//
// Environment:
//   SAO_URL, SAO_DATABASE, SAO_PASSWORD (SAO_USER: admin)   the instance
//   SAO_OWNER_ROLE       the shared owner role (primary, secondary)
//   SAO_PRIMARY_SCHEMA   the primary's schema (secondary)
//   SAO_PARTY_PREFIX     party code prefix (primary, parties)
//   SAO_PARTY_NAME, SAO_PRIMARY_URL                        (parties)
//   SAO_SCREENSHOTS      folder for the screenshots (default ./screenshots)
//   SAO_TIMEOUT          ms per wait (sao.js; default 30000)
// The last line printed is "RESULT <json>": what the client showed (the
// wizard's report, the party code, the rows of the primary's list) and
// "defects": what the client showed wrong while the flow could go on (e.g.
// no "Party Prefix" field in the set-up wizard: the prefix is then set with
// Set Party Code Prefix). The test fails on any defect.
// Exit code 0 or 1; on failure <phase>-99-failure.png is written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as sao from './sao.js';

const env = process.env;
const phase = process.argv[2];
const PHASES = {primary, secondary, parties};
if (!PHASES[phase]) {
    console.error(`usage: setup_wizard.mjs ${Object.keys(PHASES).join('|')}`);
    process.exit(2);
}
function need(name) {
    if (!env[name]) {
        throw new sao.SaoError(`missing environment ${name}`);
    }
    return env[name];
}
const shots = path.resolve(env.SAO_SCREENSHOTS || 'screenshots');
const step = (message) => console.log(`${phase}: ${message}`);
const result = {phase, defects: []};
function defect(text) {
    console.log(`${phase}: DEFECT: ${text}`);
    result.defects.push(text);
}

function credentials(url = need('SAO_URL')) {
    return [url, {database: need('SAO_DATABASE'), user: env.SAO_USER || 'admin',
        password: need('SAO_PASSWORD')}];
}

// A screenshot of the viewport, or of the element `selector` (a dialog,
// the current tab) when given: smaller pictures for the documentation.
async function shot(page, name, selector = null) {
    const file = path.join(shots, `${name}.png`);
    if (!selector) {
        return sao.screenshot(page, file);
    }
    await sao.settle(page);
    await page.locator(selector).last().screenshot({path: file, animations: 'disabled'});
    return file;
}

const WIZARD_DIALOG = '.modal.in .modal-dialog';
const CURRENT_TAB = '#tabcontent > .tab-pane.active';

async function openConfiguration(page) {
    const opened = await sao.openMenu(page,
        ['Administration', 'Shared Schema', 'Shared Schema']);
    if (opened.kind !== 'tab' || !/Shared Schema/.test(opened.name)) {
        throw new sao.SaoError(`expected the Shared Schema tab, got ${JSON.stringify(opened)}`);
    }
}

// Run "Set up Shared Schema" from the menu: preview, Set up, report, Close.
async function runSetup(page, prefix, names) {
    step('open Administration / Shared Schema / Set up Shared Schema');
    const opened = await sao.openMenu(page,
        ['Administration', 'Shared Schema', 'Set up Shared Schema']);
    const wizard = await sao.currentWizard(page);
    if (!wizard || wizard.action !== 'shared_schema.setup') {
        throw new sao.SaoError(`expected the set-up wizard, got ${JSON.stringify([opened, wizard])}`);
    }
    result.analysis = (await sao.fieldValue(page, 'analysis')).value;
    const sql = (await sao.fieldValue(page, 'sql')).value;
    result.sqlHasSetSchema = sql.includes('SET SCHEMA "public"');
    result.sql = sql.slice(0, 400);
    // What the client shows, checked as a user would see it; a wrong view
    // is noted (the test fails on it at the end) and the flow goes on.
    result.buttons = wizard.buttons;
    if (!wizard.buttons.includes('Set up')) {
        defect(`the set-up wizard shows the buttons ${JSON.stringify(wizard.buttons)}, ` +
            'not "Set up" (its own start view is not used)');
    }
    result.prefixShown = false;
    if (prefix) {
        result.prefixShown = await page.evaluate(() => {
            const wizard = Sao.__rig.wizards[Sao.__rig.wizards.length - 1];
            const view = wizard.screen && wizard.screen.current_view;
            return ((view && view.widgets && view.widgets.party_prefix) || [])
                .some((w) => w.visible && w.el && w.el.is(':visible'));
        });
        if (result.prefixShown) {
            await sao.fillField(page, 'party_prefix', prefix);
        } else {
            defect('the set-up wizard shows no "Party Prefix" field although ' +
                'party is activated');
        }
    }
    await shot(page, names.preview, opened.kind === 'dialog' ? WIZARD_DIALOG : null);
    step('click the button of state "run" ("Set up")');
    const outcome = await sao.wizardButton(page, 'run', {timeout: 3 * sao.DEFAULT_TIMEOUT});
    if (outcome.ended || outcome.state !== 'done') {
        throw new sao.SaoError(`the wizard did not show its report: ${JSON.stringify(outcome)}`);
    }
    result.report = (await sao.fieldValue(page, 'report')).value;
    step(`report: ${result.report}`);
    await shot(page, names.done, opened.kind === 'dialog' ? WIZARD_DIALOG : null);
    const closed = await sao.wizardButton(page, 'Close');
    if (!closed.ended) {
        throw new sao.SaoError('the wizard stayed open after Close');
    }
}

// Run Administration > Shared Schema > Set Party Code Prefix.
async function setPrefix(page, prefix, name) {
    step(`open Administration / Shared Schema / Set Party Code Prefix (${prefix})`);
    await sao.openMenu(page,
        ['Administration', 'Shared Schema', 'Set Party Code Prefix']);
    const wizard = await sao.currentWizard(page);
    if (!wizard || wizard.action !== 'shared_schema.set_party_prefix') {
        throw new sao.SaoError(`expected the prefix wizard, got ${JSON.stringify(wizard)}`);
    }
    await sao.fillField(page, 'prefix', prefix);
    await shot(page, name, WIZARD_DIALOG);
    await sao.runWizard(page, [{button: 'Set'}]);
}

async function primary(page) {
    step('log in to the primary');
    await sao.login(page, ...credentials());
    await shot(page, 'primary-01-logged-in');
    step('open Administration / Shared Schema / Shared Schema');
    await openConfiguration(page);
    await shot(page, 'primary-02-configuration');
    await sao.fillField(page, 'owner_role', need('SAO_OWNER_ROLE'));
    result.configuration = await sao.save(page);
    result.messages = await sao.infoMessages(page);
    // A button saves the record before it runs, so after it the record is
    // stored as shown (sao then disables Save: nothing is left to save).
    step('click "Parties and Countries"');
    await sao.clickButton(page, 'Parties and Countries', {timeout: 2 * sao.DEFAULT_TIMEOUT});
    // The button saves the record, runs on the server, then reloads it.
    result.models = await sao.until(page, () => {
        const record = Sao.Tab.tabs.get_current().screen.current_record;
        const models = record && record._values.models;
        return models && models.length;
    }, null, {what: 'the models of "Parties and Countries"'});
    step(`${result.models} models in the set`);
    await sao.until(page, () => {
        const record = Sao.Tab.tabs.get_current().screen.current_record;
        return record && record.id >= 0 && !record.modified;
    }, null, {what: 'the configuration to be stored'});
    await shot(page, 'primary-03-preset-saved');
    await runSetup(page, need('SAO_PARTY_PREFIX'), {
        preview: 'primary-04-setup-preview', done: 'primary-05-setup-done'});
    await shot(page, 'primary-06-after-setup');
    if (!result.prefixShown) {
        step('set the prefix with Set Party Code Prefix instead');
        await setPrefix(page, need('SAO_PARTY_PREFIX'), 'primary-07-prefix');
    }
}

async function secondary(page) {
    step('log in to the secondary');
    await sao.login(page, ...credentials());
    await openConfiguration(page);
    await sao.fillField(page, 'role', 'secondary');
    await sao.fillField(page, 'primary_schema', need('SAO_PRIMARY_SCHEMA'));
    await sao.fillField(page, 'owner_role', need('SAO_OWNER_ROLE'));
    result.configuration = await sao.save(page);
    await shot(page, 'secondary-01-configuration-saved', CURRENT_TAB);
    await runSetup(page, null, {
        preview: 'secondary-02-setup-preview', done: 'secondary-03-setup-done'});
}

async function parties(page) {
    const name = need('SAO_PARTY_NAME');
    step('log in to the secondary (party activated)');
    await sao.login(page, ...credentials());
    await setPrefix(page, need('SAO_PARTY_PREFIX'), 'parties-01-secondary-prefix');

    step(`create party "${name}" on the secondary`);
    await sao.openMenu(page, ['Parties', 'Parties']);
    await sao.clickButton(page, 'New');
    await sao.fillField(page, 'name', name);
    result.secondaryParty = await sao.save(page);
    result.code = (await sao.fieldValue(page, 'code')).value;
    step(`saved id ${result.secondaryParty}, code ${result.code}`);
    await shot(page, 'parties-02-secondary-party', CURRENT_TAB);

    step('log in to the primary and find it in Parties / Parties');
    await sao.login(page, ...credentials(need('SAO_PRIMARY_URL')));
    await sao.openMenu(page, ['Parties', 'Parties']);
    // The list as the user sees it: the rows drawn in the current tab.
    result.primaryList = await sao.until(page, (name) => {
        const tab = Sao.Tab.tabs.get_current();
        const view = tab && tab.screen && tab.screen.current_view;
        if (!view || view.view_type !== 'tree' || !view.rows) {
            return false;
        }
        const pane = document.querySelector('#tabcontent > .tab-pane.active');
        const rows = [...pane.querySelectorAll('table tbody tr')]
            .filter((tr) => tr.getClientRects().length)
            .map((tr) => tr.innerText.trim().replace(/\s+/g, ' '))
            .filter((text) => text);
        return rows.some((text) => text.includes(name)) ? rows : false;
    }, name, {what: `party "${name}" in the primary's list`});
    step(`primary's list: ${result.primaryList.join(' | ')}`);
    await shot(page, 'parties-03-primary-list', CURRENT_TAB);
}

const started = Date.now();
let context, page, failed = false;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sao-profile-'));
try {
    ({context, page} = await sao.launch(profile, {viewport: {width: 1280, height: 900}}));
    await PHASES[phase](page);
} catch (err) {
    failed = true;
    result.error = String(err.message || err);
    console.error(`${phase}: FAILED: ${err.stack || err}`);
    if (page) {
        await sao.screenshot(page, path.join(shots, `${phase}-99-failure.png`),
            {settle: false}).catch(() => {});
    }
} finally {
    if (page) {
        const issues = sao.problems(page);
        if (issues.length) {
            console.log(`${phase}: browser reported:\n  ${issues.join('\n  ')}`);
        }
    }
    if (context) {
        await context.close().catch(() => {});
    }
    fs.rmSync(profile, {recursive: true, force: true});
}
result.seconds = Number(((Date.now() - started) / 1000).toFixed(1));
console.log(`${phase}: ${failed ? 'FAILED' : 'OK'} in ${result.seconds}s; screenshots in ${shots}`);
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(failed ? 1 : 0);
