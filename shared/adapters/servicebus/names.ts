/** The Service Bus queue: the code and infra/ must agree (checked by test/infra). */
export const ESCALATIONS_QUEUE = "escalations";
