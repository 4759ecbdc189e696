"""What the department twin answers under the contract, for each service of the demo catalog
(app/catalog/demo.py): plausible, invented, the same numbers for the same inputs.

The rule for "no such record" is the one the twin's records/query already uses: a key number ending
in 0 (an account, a case or licence number) is NOT_FOUND. Services whose only inputs are choices
(a district, a scenic spot, a product) always answer. docs/sandbox.md lists each service's key input.
A service the twin does not know is answered as a case's progress (`case_no`), like the example receiver.
"""

from integrations.sandbox.twins.department_answers import personal, public
from integrations.sandbox.twins.department_answers.common import ANSWERS, Refusal, answer

__all__ = ["ANSWERS", "Refusal", "answer", "personal", "public"]
