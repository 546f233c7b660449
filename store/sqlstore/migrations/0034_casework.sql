-- Casework: the fraud cases become the bank's one case queue. A case has a
-- kind (fraud: a customer said "no, it wasn't me"; lost and stolen: a card
-- reported by its holder; dispute: a transaction the customer disputes,
-- with the card network's reason code and the deadline to file it), a
-- member of staff it is assigned to (0: nobody yet), and notes written by
-- staff (and, on disputes, by the customer), kept in order and never
-- edited.
ALTER TABLE fraud_cases ADD COLUMN kind TEXT NOT NULL DEFAULT 'fraud';
ALTER TABLE fraud_cases ADD COLUMN assignee {{.int64}} NOT NULL DEFAULT 0;
ALTER TABLE fraud_cases ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE fraud_cases ADD COLUMN due_at {{.int64}} NOT NULL DEFAULT 0;
CREATE INDEX fraud_cases_customer_idx ON fraud_cases(customer_id, opened_at);

CREATE TABLE case_notes (
  id          {{.serial}} PRIMARY KEY,
  case_id     {{.int64}} NOT NULL REFERENCES fraud_cases(id),
  staff_id    {{.int64}} NOT NULL DEFAULT 0,
  customer_id {{.int64}} NOT NULL DEFAULT 0,
  body        TEXT   NOT NULL,
  created_at  {{.int64}} NOT NULL
);
CREATE INDEX case_notes_case_idx ON case_notes(case_id, id);
