/** The Service Bus queues: the code and infra/ must agree (checked by test/infra). */
export const ESCALATIONS_QUEUE = "escalations";
/** The SLA clocks' warnings and breaches: scheduled messages, one per timer (issue "SLA clocks"). */
export const TICKET_TIMERS_QUEUE = "ticket-timers";
