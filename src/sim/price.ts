/**
 * A simulated dynamic electricity tariff (EUR/kWh, all-in) by UTC hour: cheap at night and
 * around noon (solar), peaks in the morning and the evening.
 */
const HOURLY = [
  0.22, 0.21, 0.2, 0.2, 0.21, 0.24, 0.3, 0.34, 0.32, 0.26, 0.19, 0.14, 0.11, 0.1, 0.12, 0.16, 0.24, 0.33, 0.38, 0.36, 0.31, 0.27, 0.25,
  0.23,
];

/** The simulated price at a moment. */
export function simulatedPrice(now: Date): number {
  return HOURLY[now.getUTCHours()] ?? 0.25;
}

/** Where a price stands: `low` (use energy now), `high` (avoid it), or `normal`. */
export type PriceLevel = 'low' | 'normal' | 'high';

export function priceLevel(price: number, low: number, high: number): PriceLevel {
  if (price <= low) return 'low';
  if (price >= high) return 'high';
  return 'normal';
}
