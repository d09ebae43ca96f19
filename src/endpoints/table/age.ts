/**
 * Ages as kube-apiserver prints them in Table cells (apimachinery's duration.HumanDuration): about
 * two significant units, whole numbers truncated toward zero, and up to a second of clock skew
 * forgiven before an age reads "<invalid>".
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY_HOURS = 24;
const YEAR_HOURS = 24 * 365;

/** Go's zero time.Time ("0001-01-01T00:00:00Z"), which metav1.Time treats as unset. */
const ZERO_TIME = Date.parse('0001-01-01T00:00:00Z');
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 2 * 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) return withRest(`${minutes}m`, seconds % 60, 's');
  if (minutes < 3 * 60) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) return withRest(`${hours}h`, minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / DAY_HOURS);
  if (hours < 8 * DAY_HOURS) return withRest(`${days}d`, hours % DAY_HOURS, 'h');
  if (hours < 2 * YEAR_HOURS) return `${days}d`;
  const years = Math.trunc(hours / YEAR_HOURS);
  if (hours < 8 * YEAR_HOURS) return withRest(`${years}y`, days % 365, 'd');
  return `${years}y`;
}

function withRest(head: string, rest: number, unit: string): string {
  return rest === 0 ? head : `${head}${rest}${unit}`;
}

/**
 * The Age of a timestamp: "<unknown>" when unset (absent, empty, "null" or Go's zero time),
 * "<invalid>" when it is not RFC 3339 (as CRD `date` columns show it), else humanDuration(now - ts).
 */
export function translateTimestampSince(ts: string | undefined, now: number = Date.now()): string {
  if (ts === undefined || ts === '' || ts === 'null') return '<unknown>';
  const time = RFC3339.test(ts) ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(time)) return '<invalid>';
  if (time === ZERO_TIME) return '<unknown>';
  return humanDuration(now - time);
}
