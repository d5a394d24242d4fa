"""Retention schedule and disposition: plan → approve (a second person) → dispose → certificate.

`schedule` reads `retention.yaml` and decides each record's rule and disposal date; `plan`
builds the disposition list file by file; `approve` and `dispose` are the two signatures;
`certificate` is the permanent proof; `reevaluate` compares a changed schedule over the archived
records and extends Object Lock where periods grew; `erasure` answers GDPR erasure requests without deleting;
`book` keeps every step as write-once objects in the store.
"""
