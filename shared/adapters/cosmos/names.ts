/** Container names: the code and infra/ must agree (checked by test/infra). */
export const TICKETS_CONTAINER = "tickets";
export const LEASES_CONTAINER = "leases";
