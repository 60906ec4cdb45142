/** The Service Bus queues: the code and infra/ must agree (checked by test/infra). */
export const ESCALATIONS_QUEUE = "escalations";
/** The SLA clocks' warnings and breaches: scheduled messages, one per timer (issue "SLA clocks"). */
export const TICKET_TIMERS_QUEUE = "ticket-timers";
/** Commands one change fans out to other tickets: an incident's broadcast and cascade to its children, a child's link told to its parent (issue "Major incidents"). */
export const TICKET_COMMANDS_QUEUE = "ticket-commands";
/** Requester emails and the apps' webhook events (issue "Tell the requester"). */
export const NOTIFICATIONS_QUEUE = "notifications";
