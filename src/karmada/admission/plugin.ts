/**
 * The contract of Karmada's admission as the server runs it in its request path: what Karmada's
 * mutating and validating webhooks (karmada-webhook) do, as pure functions over the object being
 * written — the server's own in-process admission plugin shape (src/endpoints/admission.ts).
 */
export type { AdmissionRequest as KarmadaAdmissionRequest, AdmissionPlugin as KarmadaAdmissionPlugin } from '../../endpoints/admission.js';
