#!/usr/bin/env node
// Exercise every helper of sao.js on plain trytond + party (a regression
// check of the rig itself; smoke.mjs is the short proof). Same environment
// as smoke.mjs: SAO_URL, SAO_DATABASE, SAO_USER, SAO_PASSWORD,
// SAO_SCREENSHOTS. Creates parties named "Selftest ... <time>" and replaces
// one by the other with the party Replace wizard. Exit code 0 or 1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as sao from './sao.js';

const env = process.env;
for (const name of ['SAO_URL', 'SAO_DATABASE', 'SAO_PASSWORD']) {
    if (!env[name]) {
        console.error(`selftest: missing environment ${name}`);
        process.exit(1);
    }
}
const credentials = {database: env.SAO_DATABASE, user: env.SAO_USER || 'admin',
    password: env.SAO_PASSWORD};
const shots = path.resolve(env.SAO_SCREENSHOTS || 'screenshots');
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sao-profile-'));
const stamp = Date.now();
const checks = [];
let context, page, failed = 0;

async function check(name, fn) {
    const started = Date.now();
    try {
        await fn();
        checks.push(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (err) {
        failed++;
        checks.push(`FAIL ${name}: ${err.message}`);
        await sao.screenshot(page, path.join(shots, `selftest-fail-${checks.length}.png`),
            {settle: false}).catch(() => {});
        await sao.dismissError(page).catch(() => {});
    }
}

try {
    ({context, page} = await sao.launch(profile));
    await check('login (configuration wizard cancelled)', async () => {
        await sao.login(page, env.SAO_URL, credentials);
    });
    await check('login again in the same page (stored session dropped)', async () => {
        await sao.login(page, env.SAO_URL, credentials);
    });
    await check('login with a wrong password is refused', async () => {
        await assert.rejects(
            sao.login(page, env.SAO_URL, {...credentials, password: 'wrong'}),
            /wrong password/);
        await sao.login(page, env.SAO_URL, credentials);
    });
    await check('openMenu via tree, three levels', async () => {
        const opened = await sao.openMenu(page, ['Administration', 'Users', 'Users']);
        assert.equal(opened.kind, 'tab');
        assert.match(opened.name, /Users/);
    });
    await check('openMenu via search', async () => {
        const opened = await sao.openMenu(page, ['Parties', 'Parties'], {via: 'search'});
        assert.deepEqual([opened.kind, opened.name], ['tab', 'Parties']);
    });
    await check('openMenu of the tab already shown', async () => {
        const opened = await sao.openMenu(page, ['Parties', 'Parties']);
        assert.equal(opened.reused, true);
    });
    let alpha, beta;
    await check('New, fillField char/selection/boolean, save', async () => {
        await sao.clickButton(page, 'New');
        await sao.fillField(page, 'name', `Selftest Alpha ${stamp}`);
        const lang = await sao.fillField(page, 'lang', 'English');
        assert.equal(lang.text, 'English');
        await sao.fillField(page, 'active', false);
        assert.equal((await sao.fieldValue(page, 'active')).value, false);
        await sao.fillField(page, 'active', true);
        alpha = await sao.save(page);
        assert.ok(alpha > 0);
        assert.ok((await sao.infoMessages(page)).includes('Record saved.'));
    });
    await check('second New from the form view', async () => {
        await sao.clickButton(page, 'New');
        assert.ok(!(await sao.fieldValue(page, 'name')).value);
        await sao.fillField(page, 'name', `Selftest Beta ${stamp}`);
        beta = await sao.save(page);
        assert.ok(beta > alpha);
    });
    await check('dialog wizard with many2one fields and a user warning', async () => {
        await sao.toolbarAction(page, 'Replace');
        const wizard = await sao.currentWizard(page);
        assert.equal(wizard.action, 'party.replace');
        assert.deepEqual(wizard.buttons, ['Cancel', 'Replace']);
        await assert.rejects(
            sao.runWizard(page, [{
                fields: {source: `Selftest Beta ${stamp}`,
                    destination: `Selftest Alpha ${stamp}`},
                button: 'Replace'}]),
            /different names/);  // userWarning 'fail' by default
        // The question was left open: "No" ends the wizard (as in sao).
        await sao.untilAnsweringWarnings(page, () => true, null, {userWarning: 'no'});
        await sao.until(page, () => !document.querySelector('.wizard-dialog'),
            null, {what: 'the wizard to close'});
        await sao.settle(page);
        await sao.toolbarAction(page, 'Replace');
        const outcome = await sao.runWizard(page, [{
            fields: {source: `Selftest Beta ${stamp}`,
                destination: `Selftest Alpha ${stamp}`},
            button: 'Replace',
            screenshot: path.join(shots, 'selftest-wizard.png'),
        }], {userWarning: 'yes'});
        assert.equal(outcome.ended, true);
        assert.equal(await sao.currentWizard(page), null);
        assert.equal((await sao.fieldValue(page, 'replaced_by')).text,
            `Selftest Alpha ${stamp}`);
        await sao.screenshot(page, path.join(shots, 'selftest-replaced.png'));
    });
    await check('wizard refusing a step names the field', async () => {
        await sao.toolbarAction(page, 'Replace');
        await sao.fillField(page, 'source', `Selftest Alpha ${stamp}`);
        await sao.fillField(page, 'source', '');
        await assert.rejects(sao.wizardButton(page, 'Replace'), /required/);
        const outcome = await sao.wizardButton(page, 'Cancel');
        assert.equal(outcome.ended, true);
    });
    await check('server error surfaces at once, dismissError closes it', async () => {
        await sao.openMenu(page, ['Administration', 'Users', 'Users']);
        await sao.clickButton(page, 'New');
        await sao.fillField(page, 'name', 'Selftest duplicate login');
        await sao.fillField(page, 'login', 'admin');
        await assert.rejects(sao.save(page), /same login/);
        assert.match(await sao.dismissError(page), /same login/);
    });
    await check('configuration wizard kept open, stepped through in tabs', async () => {
        await sao.login(page, env.SAO_URL, {...credentials, configWizard: 'keep'});
        let wizard = await sao.currentWizard(page);
        assert.equal(wizard.action, 'ir.module.config_wizard');
        assert.deepEqual(wizard.buttons, ['Cancel', 'OK']);
        let outcome = await sao.wizardButton(page, 'OK');
        assert.equal(outcome.ended, false);
        // OK launched the first configuration item, a wizard in its own tab.
        wizard = await sao.currentWizard(page);
        assert.notEqual(wizard.action, 'ir.module.config_wizard');
        await sao.screenshot(page, path.join(shots, 'selftest-config-item.png'));
        outcome = await sao.wizardButton(page, 'Cancel');
        assert.equal(outcome.ended, true);
        wizard = await sao.currentWizard(page);
        assert.equal(wizard.action, 'ir.module.config_wizard');
        outcome = await sao.wizardButton(page, 'Cancel');
        assert.equal(outcome.ended, true);
        await sao.waitMenu(page);
        assert.equal(await sao.currentWizard(page), null);
    });
} catch (err) {
    failed++;
    checks.push(`FAIL ${err.stack || err}`);
} finally {
    if (context) {
        await context.close().catch(() => {});
    }
    fs.rmSync(profile, {recursive: true, force: true});
}
console.log(checks.join('\n'));
const passed = checks.filter((line) => line.startsWith('ok')).length;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
