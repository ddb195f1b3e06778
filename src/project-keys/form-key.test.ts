import { describe, expect, it } from 'vitest';
import { parseXForm } from '../xform/index.js';
import { FormKeyError, injectPublicKey } from './form-key.js';

const KEY = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA95fc0m1fiNMv8T2gAAAA';

const form = (model: string, root = '<data id="f" version="3">') => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">
 <h:head><h:title>F</h:title><!-- <model> in a comment --><model>${model}
  <instance>${root}<q/><meta><instanceID/></meta></data></instance>
  <instance id="villages"><root><item/></root></instance>
  <bind nodeset="/data/q" type="string" relevant=" /data/q &gt; 3"/>
 </model></h:head>
 <h:body><input ref="/data/q"><label>Q</label></input></h:body>
</h:html>`;

describe('putting the public key into an XForm', () => {
  it('adds <submission> as the first child of the model and suffixes the version, leaving the rest byte for byte', () => {
    const original = form('');
    const keyed = injectPublicKey(original, KEY, '3[encrypted:AYvP5WgA]');
    expect(keyed).toBe(original.replace('--><model>', `--><model><submission base64RsaPublicKey="${KEY}"/>`).replace('version="3"', 'version="3[encrypted:AYvP5WgA]"'));
    const schema = parseXForm(keyed);
    expect(schema.base64RsaPublicKey).toBe(KEY);
    expect(schema.version).toBe('3[encrypted:AYvP5WgA]');
  });

  it('keeps an existing <submission> and its other attributes, and adds a missing version', () => {
    const keyed = injectPublicKey(form('<submission action="https://example.org/sub" method="post" orx:auto-send="true" xmlns:orx="http://openrosa.org/xforms"/>', '<data id="f">'), KEY, '[encrypted:AYvP5WgA]');
    expect(keyed).toContain(`<submission action="https://example.org/sub" method="post" orx:auto-send="true" xmlns:orx="http://openrosa.org/xforms" base64RsaPublicKey="${KEY}"/>`);
    expect(keyed).toContain('<data id="f" version="[encrypted:AYvP5WgA]">');
    expect(keyed.match(/<submission/g)).toHaveLength(1);
  });

  it('replaces a key the form already had', () => {
    const keyed = injectPublicKey(form('<submission base64RsaPublicKey="OLDKEY=="/>'), KEY, '4');
    expect(keyed).toContain(`<submission base64RsaPublicKey="${KEY}"/>`);
    expect(keyed).not.toContain('OLDKEY');
  });

  it('refuses documents it cannot place the key in', () => {
    expect(() => injectPublicKey('<h:html xmlns:h="x"><h:head/></h:html>', KEY, '1')).toThrow(FormKeyError);
    expect(() => injectPublicKey('<h:html><model><instance id="only-secondary"><x/></instance></model></h:html>', KEY, '1')).toThrow(FormKeyError);
  });
});
