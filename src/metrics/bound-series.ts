import type { Metric, Registry } from 'prom-client';

/**
 * Counter and histogram families whose series are bound to their label values once. Recording is
 * then a few array and number updates: prom-client's own metrics validate, hash and look up the
 * label set on every call, which at thousands of requests a second is a measurable share of the
 * server's CPU. The families register with a prom-client Registry and render exactly as its
 * Counter and Histogram do (same names and labels, cumulative `le` buckets, `_sum`, `_count`).
 */
type Labels<L extends string> = Readonly<Record<L, string>>;

interface FamilyConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registers: readonly Registry[];
}

interface ExportedValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
  /** Rendered after `labels` (prom-client puts a bucket's `le` first this way). */
  readonly sharedLabels?: Readonly<Record<string, string>>;
}

export interface CounterSeries {
  inc(amount?: number): void;
}

export interface HistogramSeries {
  observe(value: number): void;
}

/** The series of a family by label values, each made on first use. */
abstract class Family<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum';
  private readonly labelNames: readonly L[];
  protected readonly all = new Map<string, { readonly labels: Labels<L>; readonly series: S }>();

  constructor(config: FamilyConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    // prom-client's Registry only calls name/help/type/get()/reset() on what it holds.
    for (const registry of config.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values (keep it: looking it up again costs a join and a map lookup). */
  labels(labels: Labels<L>): S {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let entry = this.all.get(key);
    if (!entry) {
      const copy = Object.fromEntries(this.labelNames.map((n) => [n, labels[n]])) as Labels<L>;
      entry = { labels: copy, series: this.create() };
      this.all.set(key, entry);
    }
    return entry.series;
  }

  reset(): void {
    this.all.clear();
  }

  protected abstract create(): S;
}

class Count implements CounterSeries {
  value = 0;
  inc(amount = 1): void {
    this.value += amount;
  }
}

export class CounterFamily<L extends string> extends Family<L, Count> {
  readonly type = 'counter';

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const values = [...this.all.values()].map(({ labels, series }) => ({ labels, value: series.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected create(): Count {
    return new Count();
  }
}

class Buckets implements HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily<L extends string> extends Family<L, Buckets> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(config: FamilyConfig<L> & { readonly buckets: readonly number[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, series } of this.all.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i] as number;
        values.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: series.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected create(): Buckets {
    return new Buckets(this.bounds);
  }
}
