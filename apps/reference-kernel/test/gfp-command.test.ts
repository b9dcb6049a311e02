import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const status = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { status, out, err };
}

describe('reference-kernel gfp', () => {
  it('decodes 0xcc0 as GFP_KERNEL on the first line', async () => {
    const r = await cli('gfp', '0xcc0');
    expect(r.status).toBe(0);
    expect(r.out.split('\n')[0]).toBe('GFP_KERNEL');
    expect(r.out).toMatch(/may block\s+yes/);
    expect(r.out).toMatch(/zone\s+Normal/);
  });

  it('encodes an expression to hex and explains the reserves', async () => {
    const r = await cli('gfp', 'GFP_ATOMIC|__GFP_NOWARN');
    expect(r.out.split('\n')[0]).toBe('0x2820');
    expect(r.out).toMatch(/may block\s+no/);
    expect(r.out).toMatch(/3\/8 of the min watermark/);
    expect(r.out).toMatch(/warns on failure\s+no/);
  });

  it('prints JSON with --json', async () => {
    const r = await cli('gfp', '0x820', '--json');
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({
      mask: 0x820,
      text: 'GFP_ATOMIC',
      mayBlock: false,
      maySpin: true,
      wakesKswapd: true,
      mayDirectReclaim: false,
      reserves: 'min-reserve-nonblock',
      zone: 'Normal',
      mode: '0x820(GFP_ATOMIC)',
    });
  });

  it('decodes an old splat with the 6.2 dialect', async () => {
    const r = await cli('gfp', '0xa20', '--dialect', '6.2');
    expect(r.out.split('\n')[0]).toBe('GFP_ATOMIC');
  });

  it('rejects an unknown flag with status 2 and a suggestion', async () => {
    const r = await cli('gfp', 'GFP_KERNL');
    expect(r.status).toBe(2);
    expect(r.err).toContain("unknown GFP flag 'GFP_KERNL'");
    expect(r.err).toContain("'GFP_KERNEL'");
    expect(r.out).toBe('');
  });

  it('rejects an unknown dialect and an unknown command', async () => {
    expect((await cli('gfp', '0x1', '--dialect', '5.4')).err).toContain('accepted: 7.x, 6.18, 6.2');
    const r = await cli('gpf', '0x1');
    expect(r.status).toBe(2);
    expect(r.err).toContain('gfp');
  });
});
