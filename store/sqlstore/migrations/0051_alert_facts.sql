-- What an alert says, as data (package alerts, Facts as JSON): the account
-- and merchant names, the card's last four, why it looked suspicious, or a
-- notice's texts in each language. A delivery writes its text from them
-- in the customer's language at the time it is sent; '' for alerts made
-- before, which keep their stored text.
ALTER TABLE alerts ADD COLUMN facts TEXT NOT NULL DEFAULT '';
