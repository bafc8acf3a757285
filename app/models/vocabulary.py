"""The closed vocabularies of the domain, as string enums.

The database stores their ``value`` in plain text columns guarded by CHECK constraints
(see :func:`app.models.base.one_of`), so a value outside these lists cannot be written
by any code path, including a future bug or a hand-written SQL statement.
"""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    INTAKE = "intake"
    INSPECTION = "inspection"
    INVESTIGATION = "investigation"
    OVERSIGHT = "oversight"


class Role(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    OBSERVER = "observer"


class Category(StrEnum):
    """From the city plan: "tham nhũng, lãng phí, tiêu cực" and what it names."""

    CORRUPTION = "corruption"
    WASTE = "waste"
    MISCONDUCT = "misconduct"
    HARASSMENT = "harassment"  # nhũng nhiễu: harassment of citizens or businesses
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    ASSET_DECLARATION = "asset_declaration"
    OTHER = "other"


class Sector(StrEnum):
    LAND_CONSTRUCTION = "land_construction"
    PROCUREMENT_INVESTMENT = "procurement_investment"
    BUDGET_FINANCE = "budget_finance"
    TAX_CUSTOMS = "tax_customs"
    HEALTH = "health"
    EDUCATION = "education"
    RESOURCES_ENVIRONMENT = "resources_environment"
    PUBLIC_SERVICES = "public_services"
    OTHER = "other"


class CaseStatus(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    NEEDS_INFO = "needs_info"
    ROUTED_INSPECTION = "routed_inspection"
    ROUTED_INVESTIGATION = "routed_investigation"
    CLOSED = "closed"


class Resolution(StrEnum):
    SUBSTANTIATED = "substantiated"
    PARTLY_SUBSTANTIATED = "partly_substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    DUPLICATE = "duplicate"
    OUT_OF_SCOPE = "out_of_scope"


class Track(StrEnum):
    """The reporter's choice (Luật Tố cáo 2018, docs/legal.md §1-§4).

    ``anonymous``: information with denunciation content but no name (art. 25): used for
    inspection within the authority's competence; no statutory clock, the city's own
    service targets apply. ``named``: a denunciation with the denouncer's identity, kept
    secret (art. 47(1), art. 56): the statutory process, its clocks and notices apply.
    """

    ANONYMOUS = "anonymous"
    NAMED = "named"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class KeyKind(StrEnum):
    CASE = "case"  # report, attachments, messages both ways; also wrapped to the reporter
    STAFF = "staff"  # internal notes and triage reasoning; never wrapped to the reporter


class StatutoryDecision(StrEnum):
    """What the resolver decided on a named denunciation after the initial handling
    (Luật Tố cáo 2018 art. 24): accept it (thụ lý, art. 29), refuse it with reasons
    (art. 24(1)), or transfer it to the competent body (art. 24(2)). Decided once."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    TRANSFERRED = "transferred"


class BlobKind(StrEnum):
    REPORT = "report"
    ATTACHMENT = "attachment"
    MESSAGE = "message"
    NOTE = "note"
    # A named reporter's identity, sealed: encrypted to the case's identity key only,
    # whose wrap opens for the holding unit's identity custodians and the recovery key
    # (app.cases.identity). Never to the case or staff key.
    IDENTITY = "identity"


class Side(StrEnum):
    REPORTER = "reporter"
    REVIEWER = "reviewer"


class SessionFace(StrEnum):
    INTAKE = "intake"
    REVIEW = "review"


class InvitationKind(StrEnum):
    SETUP = "setup"  # the first admin, while no admin exists
    INVITE = "invite"  # an admin invites a reviewer into a unit with a role


class AccessChangeKind(StrEnum):
    """Changes that give someone keys to cases, or power over who gets them: each waits
    for a second administrator (app.accounts.approvals)."""

    MEMBERSHIP = "membership"  # the target joins ``unit``
    ROLE = "role"  # the target's role rises to ``value`` (observer -> reviewer, any -> admin)
    PASSWORD_RESET = "password_reset"  # noqa: S105 - new password + key pair
    TOTP_RESET = "totp_reset"  # a new authenticator secret for the target
    RECOVERY_KEY = "recovery_key"  # ``value`` becomes the installation's recovery recipient
    # The target becomes an identity custodian of ``unit`` (app.cases.custodians): they
    # can open sealed identities of the unit's cases and approve unsealing.
    CUSTODIAN = "custodian"


class AccessChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    EXPIRED = "expired"


class UnsealStatus(StrEnum):
    """An unsealing request (app.cases.identity): a reader asks, a custodian decides."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class ReferralResult(StrEnum):
    """What the investigation agency decided on a crime report the inspection referred
    (Bộ luật Tố tụng hình sự 2015 art. 147(3)): prosecute (khởi tố vụ án), not prosecute
    (quyết định không khởi tố), suspend the handling of the source (tạm đình chỉ giải
    quyết nguồn tin, art. 148); or the case goes back to the inspection (trả lại cho
    thanh tra), which then holds it again."""

    PROSECUTED = "prosecuted"
    NOT_PROSECUTED = "not_prosecuted"
    SUSPENDED = "suspended"
    RETURNED = "returned"


class DisciplineForm(StrEnum):
    """Disciplinary forms for cadres, civil servants and public employees (Luật Cán bộ,
    công chức; Luật Viên chức; Nghị định 112/2020/NĐ-CP): the outcome counts people by
    form."""

    REPRIMAND = "reprimand"  # khiển trách
    WARNING = "warning"  # cảnh cáo
    DEMOTION = "demotion"  # hạ bậc lương / giáng chức
    DISMISSAL = "dismissal"  # cách chức
    FORCED_RESIGNATION = "forced_resignation"  # buộc thôi việc
