"""Paying bills (缴费): orders, the channels' notifications, write-off with the issuer, refunds, reconciliation."""
