#!/usr/bin/env node
// Smoke test of the browser rig: log in to sao, open Party > Parties,
// create a party, save it, take screenshots. Exit code 0 on success, 1 on
// failure (with a screenshot of the failure).
//
// Environment:
//   SAO_URL          trytond serving sao, e.g. http://127.0.0.1:8000/ (required)
//   SAO_DATABASE     database name (required)
//   SAO_USER         login (default admin)
//   SAO_PASSWORD     password (required)
//   SAO_PARTY_NAME   name of the party to create (default "Smoke Party <time>")
//   SAO_SCREENSHOTS  folder for the screenshots (default ./screenshots)
//   SAO_MENU_VIA     'tree' (default) or 'search': how to open the menu
//   SAO_PROFILE      browser profile folder (default: a new temporary one)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as sao from './sao.js';

const env = process.env;
const required = ['SAO_URL', 'SAO_DATABASE', 'SAO_PASSWORD'];
const missing = required.filter((name) => !env[name]);
if (missing.length) {
    console.error(`smoke: missing environment ${missing.join(', ')}`);
    process.exit(1);
}
const url = env.SAO_URL;
const database = env.SAO_DATABASE;
const user = env.SAO_USER || 'admin';
const password = env.SAO_PASSWORD;
const partyName = env.SAO_PARTY_NAME || `Smoke Party ${Date.now()}`;
const shots = path.resolve(env.SAO_SCREENSHOTS || 'screenshots');
const via = env.SAO_MENU_VIA || 'tree';
const profile = env.SAO_PROFILE ||
    fs.mkdtempSync(path.join(os.tmpdir(), 'sao-profile-'));

const step = (message) => console.log(`smoke: ${message}`);
const started = Date.now();
let context, page;
let failed = false;
try {
    ({context, page} = await sao.launch(profile));
    step(`login ${user} on ${database} at ${url}`);
    await sao.login(page, url, {database, user, password});
    await sao.screenshot(page, path.join(shots, '01-logged-in.png'));

    // trytond 8.0 party: the top menu entry is "Parties", so is its child.
    step(`open Parties / Parties (via ${via})`);
    const opened = await sao.openMenu(page, ['Parties', 'Parties'], {via});
    if (opened.kind !== 'tab' || !/Parties/.test(opened.name)) {
        throw new sao.SaoError(`expected the Parties tab, got ${JSON.stringify(opened)}`);
    }
    await sao.screenshot(page, path.join(shots, '02-parties.png'));

    step(`create party "${partyName}"`);
    await sao.clickButton(page, 'New');
    await sao.fillField(page, 'name', partyName);
    const id = await sao.save(page);
    const saved = await sao.fieldValue(page, 'name');
    if (saved.value !== partyName) {
        throw new sao.SaoError(`saved name is ${JSON.stringify(saved.value)}`);
    }
    step(`saved party id ${id}: ${(await sao.infoMessages(page)).join(' | ')}`);
    await sao.screenshot(page, path.join(shots, '03-party-saved.png'));
} catch (err) {
    failed = true;
    console.error(`smoke: FAILED: ${err.stack || err}`);
    if (page) {
        await sao.screenshot(page, path.join(shots, '99-failure.png'), {settle: false})
            .catch(() => {});
    }
} finally {
    if (page) {
        const issues = sao.problems(page);
        if (issues.length) {
            console.log(`smoke: browser reported:\n  ${issues.join('\n  ')}`);
        }
    }
    if (context) {
        await context.close().catch(() => {});
    }
    if (!env.SAO_PROFILE) {
        fs.rmSync(profile, {recursive: true, force: true});
    }
}
console.log(`smoke: ${failed ? 'FAILED' : 'OK'} in ${((Date.now() - started) / 1000).toFixed(1)}s; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
