/** The label an inbound stop word puts on a customer; every campaign skips its customers. */
export const OPTED_OUT_LABEL = 'opted_out';
