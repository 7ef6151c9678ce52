// The chat demo's page (src/Gateway/Host/wwwroot) in Debian's headless chromium, driven by puppeteer-core, for the
// scenarios of tests/Conformance.Tests/Demo/ChatDemoTests.cs.
import puppeteer from "puppeteer-core";

/** Starts /usr/bin/chromium, headless, with the fresh profile directory `profile`. */
export function launchChromium(profile) {
  return puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    userDataDir: profile,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/**
 * Opens `url` in a new page of `browser` and records what the page should never meet: every dialog (`alert`,
 * `confirm`, dismissed at once so the page goes on), every failed request and answer of status 400 or more, every
 * uncaught error. `showing(test, arg, what)` waits until `test(arg)` holds in the page, and fails with the page's text.
 */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  const dialogs = [];
  const failures = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  page.on("requestfailed", (request) => failures.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
  page.on("response", (response) => { if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`); });
  page.on("pageerror", (err) => failures.push(`uncaught: ${err.message}`));
  const showing = async (test, arg, what) => {
    try {
      await page.waitForFunction(test, { timeout: 30000, polling: 100 }, arg);
    } catch (err) {
      throw new Error(`${what}: ${err.message}; the page showed:\n${await page.evaluate(() => document.body.innerText)}`);
    }
  };
  await page.goto(url, { waitUntil: "load" });
  return { page, dialogs, failures, showing };
}

/** Submits the login form with `name`, past the field's own length limit (so the server's check can be met). */
export async function logIn(page, name) {
  await page.$eval("#name", (input, value) => { input.removeAttribute("maxlength"); input.value = value; }, name);
  await page.click("#login button");
}

/** The texts of the page's errors, in order. */
export function errors(page) {
  return page.$$eval("#errors [role=alert] .text", (items) => items.map((item) => item.textContent));
}
