import type { SlabOrderParams } from '../cache-layout.js';
import type { DeferPlacement } from '../contract.js';
import { SlabError } from '../errors.js';
import type { SheavesOptions } from '../options.js';
import { show } from './show.js';

const KEYS = ['slabDebug', 'kasan', 'deferPlacement', 'orders', 'sheafCapacity'];

/** Validated options with defaults. @internal */
export interface ResolvedSlabOptions {
  readonly slabDebug: string | null;
  readonly kasan: boolean;
  readonly quarantineBytes: number;
  readonly deferPlacement: DeferPlacement;
  readonly orders: SlabOrderParams;
  readonly sheafCapacity: number;
}

function bad(field: string, value: unknown, accepted: string): never {
  throw new SlabError('BAD_OPTION', `${field} = ${show(value)} is invalid: accepted ${accepted}`);
}

/** Validate allocator options. @internal */
export function resolveSlabOptions(o: SheavesOptions | undefined): ResolvedSlabOptions {
  const opts = o ?? {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts))
    bad('options', opts, 'an object');
  for (const k of Object.keys(opts)) {
    if (!KEYS.includes(k))
      bad(k, (opts as Record<string, unknown>)[k], `a known option (${KEYS.join(', ')})`);
  }
  const slabDebug = opts.slabDebug ?? null;
  if (slabDebug !== null && typeof slabDebug !== 'string')
    bad('slabDebug', slabDebug, "a slab_debug= string such as 'FZPU'");
  let kasan = false;
  let quarantineBytes = 0;
  const k = opts.kasan ?? false;
  if (typeof k === 'boolean') kasan = k;
  else if (typeof k === 'object' && k !== null) {
    kasan = true;
    for (const key of Object.keys(k))
      if (key !== 'quarantineBytes')
        bad(`kasan.${key}`, (k as Record<string, unknown>)[key], 'quarantineBytes');
    const q = k.quarantineBytes ?? 0;
    if (!Number.isSafeInteger(q) || q < 0) bad('kasan.quarantineBytes', q, 'an integer >= 0');
    quarantineBytes = q;
  } else bad('kasan', k, 'a boolean or { quarantineBytes }');
  const deferPlacement = opts.deferPlacement ?? 'per-cpu';
  if (deferPlacement !== 'per-cpu' && deferPlacement !== 'per-cache')
    bad('deferPlacement', deferPlacement, "'per-cpu' or 'per-cache'");
  const orders = opts.orders ?? {};
  if (typeof orders !== 'object' || orders === null)
    bad('orders', orders, '{ minOrder?, maxOrder?, minObjects? }');
  for (const key of Object.keys(orders)) {
    if (key !== 'minOrder' && key !== 'maxOrder' && key !== 'minObjects')
      bad(
        `orders.${key}`,
        (orders as Record<string, unknown>)[key],
        'minOrder, maxOrder or minObjects',
      );
  }
  const minOrder = orders.minOrder ?? 0;
  const maxOrder = orders.maxOrder ?? 3;
  const minObjects = orders.minObjects ?? 0;
  if (!Number.isInteger(minOrder) || minOrder < 0 || minOrder > 10)
    bad('orders.minOrder', minOrder, 'an integer in [0, 10]');
  if (!Number.isInteger(maxOrder) || maxOrder < 0 || maxOrder > 10)
    bad('orders.maxOrder', maxOrder, 'an integer in [0, 10]');
  if (!Number.isInteger(minObjects) || minObjects < 0 || minObjects > 32767)
    bad('orders.minObjects', minObjects, 'an integer in [0, 32767]');
  const sheafCapacity = opts.sheafCapacity ?? 0;
  if (!Number.isInteger(sheafCapacity) || sheafCapacity < 0 || sheafCapacity > 4096)
    bad('sheafCapacity', sheafCapacity, 'an integer in [0, 4096]');
  return {
    slabDebug,
    kasan,
    quarantineBytes,
    deferPlacement,
    // slab_min_order= raises slab_max_order with it, as setup_slub_min_order() does.
    orders: { minOrder, maxOrder: Math.max(minOrder, maxOrder), minObjects },
    sheafCapacity,
  };
}
