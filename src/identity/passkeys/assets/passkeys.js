// Passkeys in the browser (issue 15 §5): each panel with data-options holds the server's WebAuthn options
// (PublicKeyCredentialCreationOptionsJSON or ...RequestOptionsJSON). The script shows the panel, and on submit asks
// the device for the credential, puts its JSON into the form and posts the form: the server verifies it. Without
// JavaScript, or in a browser without WebAuthn's JSON methods, the panels stay hidden and the page says why.
const PKC = globalThis.PublicKeyCredential;
const supported = Boolean(PKC?.parseCreationOptionsFromJSON && PKC?.parseRequestOptionsFromJSON && navigator.credentials);

for (const panel of document.querySelectorAll('[data-passkey]')) {
  if (!supported) continue;
  const form = panel.querySelector('form');
  panel.hidden = false;
  for (const note of document.querySelectorAll('[data-passkey-needs-js]')) note.hidden = true;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const json = JSON.parse(panel.dataset.options);
      const credential = panel.dataset.passkey === 'create'
        ? await navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(json) })
        : await navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(json) });
      form.elements.credential.value = JSON.stringify(credential.toJSON());
    } catch {
      // Cancelled, timed out or refused by the device: the server says so on the page.
      form.elements.failure.value = 'cancelled';
    }
    form.submit();
  });
}
