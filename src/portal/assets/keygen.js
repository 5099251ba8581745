// Generates the client's RSA key pair in the browser with WebCrypto: the public key goes into the form,
// the private key is offered as a download and never reaches the server. Without JavaScript the page
// still works: partners paste a PEM made with openssl.
const panel = document.getElementById('keygen');
const button = document.getElementById('keygen-button');
const textarea = document.getElementById('public_key');

function pem(label, buffer) {
  const b64 = btoa(String.fromCharCode(...new Uint8Array(buffer)));
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END ${label}-----\n`;
}

if (panel && button && textarea && globalThis.crypto?.subtle) {
  panel.hidden = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    const pair = await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-512' },
      true,
      ['sign', 'verify'],
    );
    textarea.value = pem('PUBLIC KEY', await crypto.subtle.exportKey('spki', pair.publicKey));
    const privatePem = pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', pair.privateKey));
    const link = document.getElementById('keygen-download');
    link.href = URL.createObjectURL(new Blob([privatePem], { type: 'application/x-pem-file' }));
    link.hidden = false;
    document.getElementById('keygen-done').hidden = false;
    button.disabled = false;
  });
}
