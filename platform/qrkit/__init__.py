"""The shop's print-ready QR kit: join codes with an optional branch, the branch list, and
the files a shop prints (counter display A5/A6, A4 sticker sheet, receipt-printer PNG).

``branches.branch_of_conversation`` is what the receipt pipeline reads to attribute a
receipt to the store where the member last scanned a QR.
"""
