/** The Service Bus queue that carries escalation alerts; infra/ must declare the same name (checked by test/infra). */
export const ESCALATIONS_QUEUE = "escalations";
