"""Permission-matrix entries for the commitments app: campaigns, drafting and exemptions; the
coverage pages and downloads; background jobs; opinions, the suggestion box and reference items;
printable forms; publishing (亮诺); 践诺 progress; stamped scans. (Coverage, the ledger and the
noticeboard's pages are portal's: tests/portal/matrix.py.)

Officers over the owner (MEMBER_EDIT in tests/orgs/matrix.py) draft, publish, record progress and
manage scans; the member confirms and reads their own pledge; reviews and exemptions are decided
from the level above; the public sees only what is published on the noticeboard. Everything else
is a 404. prepare() makes fresh members and organisations for each section, so the
one-commitment-per-owner rule never makes two sections clash.
"""
import datetime

from django.utils import timezone

from commitments import jobs
from commitments.models import Decision, Exemption, Job, JobKind, JobStatus, ReferenceItem, ReviewDecision, Suggestion
from orgs.models import Member, Organisation
from tests.commitments.evidence import pdf_upload, png_upload, published_earlier, record, scan_pdf, upload
from tests.commitments.publishing import approved, published
from tests.conftest import make_commitment, make_member, make_org
from tests.matrix_common import LOGGED_IN, NO_ARGS, PERSONAS, READERS, Spec, allow, attr
from tests.orgs.matrix import MEMBER_EDIT, MEMBER_TARGETS, ORG_TARGETS

BRANCHES = ("a", "b", "c", "d")


def prepare(world):
    """Every section's objects, in this order: drafting, jobs, opinions, printable forms, progress,
    publishing, stamped scans."""
    _prepare_drafting(world)
    _prepare_jobs(world)
    _prepare_opinions(world)
    _prepare_forms(world)
    _prepare_progress(world)
    _prepare_publishing(world)
    _prepare_stamped(world)


def _branches(world):
    return zip(BRANCHES, (world.branch_a, world.branch_b, world.branch_c, world.branch_d))


def _prepare_drafting(world):
    """Returned pledges (editable, with a frozen version 1) in branches A, B, C, D; deferrals too;
    exemptions proposed by each branch, waiting for the 机关党组织 above to decide."""
    for key, member in zip(BRANCHES, (world.member_a, world.member_b, world.member_c, world.member_d)):
        setattr(world, f"pledge_{key}", make_commitment(world.campaign, member=member, status="returned",
                                                        actor=world.staff_a))
    for key, member in zip(BRANCHES, (world.member_a2, world.member_b, world.member_c, world.member_d)):
        setattr(world, f"deferral_{key}", Exemption.objects.create(
            member=member, campaign=world.campaign, kind="defer", reason="外出",
            makeup_due=datetime.date.today() + datetime.timedelta(days=30), decided_by=world.staff_a))
    for key, branch in _branches(world):
        setattr(world, f"proposal_{key}", Exemption.objects.create(
            member=make_member(branch, f"病休{key}"), campaign=world.campaign, kind="exempt", status="proposed",
            reason="长期病休", proposed_by=world.staff_a))


def _prepare_jobs(world):
    """A finished batch-PDF job of secretary_a (with its result file) and a failed one of staff_a,
    which has nothing to download, not even for staff_a."""
    world.job_done = Job.objects.create(
        user=world.secretary_a, kind=JobKind.BATCH_PDF, title="公开承诺书-第一党支部-2010",
        params={"org": world.branch_a.pk, "campaign": world.campaign.pk, "own_only": False},
        status=JobStatus.DONE, progress_done=1, progress_total=1, result_name="公开承诺书-第一党支部-2010.pdf",
        finished_at=timezone.now())
    relative = jobs._write_result(world.job_done, jobs.Result("x.pdf", lambda f: f.write(b"%PDF-1.7\n")))
    Job.objects.filter(pk=world.job_done.pk).update(result_path=relative)
    world.job_failed = Job.objects.create(
        user=world.staff_a, kind=JobKind.LEDGER_XLSX, title="第一党支部2010年承诺台账",
        params={"org": world.branch_a.pk, "campaign": world.campaign.pk}, status=JobStatus.FAILED,
        error=jobs.GENERIC_ERROR, finished_at=timezone.now())


def _prepare_opinions(world):
    """A pending suggestion in five places of the tree, reference items published at four levels,
    and a revoked branch whose suggestion box must be closed."""
    for relation, org in (("own", world.branch_a), ("sibling", world.branch_b), ("parent", world.committee),
                          ("cousin", world.branch_c), ("other", world.branch_d)):
        setattr(world, f"op_suggestion_{relation}", Suggestion.objects.create(
            organisation=org, campaign=world.campaign, channel=Suggestion.Channel.BOX_ONLINE,
            content=f"建议{org.name}多为群众办实事"))
    for relation, org in (("parent", world.committee), ("child", world.general), ("root", world.root),
                          ("other", world.committee2)):
        setattr(world, f"op_reference_{relation}", ReferenceItem.objects.create(
            organisation=org, audience=ReferenceItem.Audience.MEMBER, category=ReferenceItem.Category.GOOD_DEEDS,
            content=f"{org.name}参考：每年为群众办一件实事", created_by=world.admin))
    world.op_revoked_branch = make_org(world.committee, "已撤销党支部", code="C1-X")
    Organisation.objects.filter(pk=world.op_revoked_branch.pk).update(is_active=False)


def _prepare_forms(world):
    """Approved pledges of new members in branches A, B, C, D, an approved commitment of a new
    branch under the committee, and a draft (never approved: nothing to print, for anyone)."""
    def approved_directly(reviewer, reviewer_org, **owner):
        c = make_commitment(world.campaign, status="approved", items=2, actor=world.staff_a, **owner)
        ReviewDecision.objects.create(
            commitment=c, version=c.versions.get(), reviewer=reviewer, reviewer_org=reviewer_org,
            decision=Decision.APPROVE, opinion="同意", advanced=True, central_work=True, post_duties=True,
            public_wishes=True, feasible=True)
        return c

    world.pdf_pledge_a = approved_directly(world.secretary_a, world.branch_a,
                                           member=make_member(world.branch_a, "打印甲"))
    world.pdf_pledge_b = approved_directly(world.secretary_b, world.branch_b,
                                           member=make_member(world.branch_b, "打印乙"))
    world.pdf_pledge_c = approved_directly(world.committee_secretary, world.branch_c,
                                           member=make_member(world.branch_c, "打印丙"))
    world.pdf_pledge_d = approved_directly(world.city_secretary, world.branch_d,
                                           member=make_member(world.branch_d, "打印丁"))
    world.pdf_org = make_org(world.committee, "打印测试党支部", code="C1-PDF", supervision_phone="0756-2128888")
    world.pdf_org_commitment = approved_directly(world.committee_secretary, world.committee,
                                                 organisation=world.pdf_org)
    world.pdf_draft = make_commitment(world.campaign, member=make_member(world.branch_a, "打印戊"), status="draft")


def _secretary_over(world, key):
    """The reviewing secretary of a pledge in branch `key`: the branch's own for A and B (the
    personas), the city secretary for C and D (which have no secretary persona)."""
    return {"a": world.secretary_a, "b": world.secretary_b}.get(key, world.city_secretary)


def _prepare_progress(world):
    """Published pledges of new members in branches A, B, C, D, each with an internal, a public and
    a members-level entry carrying one attachment each."""
    for key, branch in _branches(world):
        member = Member.objects.create(branch=branch, name=f"践诺{key}", gender="M")
        c = published(world, member=member, reviewer=_secretary_over(world, key), drafter=world.reviewer,
                      publisher=world.reviewer)
        internal = record(c, world.reviewer, files=[png_upload()])
        public = record(c, world.reviewer, is_public=True, files=[pdf_upload()])
        members = record(c, world.reviewer, visibility="members", files=[png_upload()])
        setattr(world, f"prog_{key}", c)
        setattr(world, f"prog_att_members_{key}", members.attachments.get())
        setattr(world, f"prog_att_internal_{key}", internal.attachments.get())
        setattr(world, f"prog_att_public_{key}", public.attachments.get())


def _prepare_publishing(world):
    """Approved pledges of new members in branches A, B, C, D (to publish), and published ones."""
    for key, branch in _branches(world):
        reviewer = _secretary_over(world, key)
        m1 = Member.objects.create(branch=branch, name=f"待公开{key}", gender="M")
        m2 = Member.objects.create(branch=branch, name=f"已公开{key}", gender="F")
        setattr(world, f"pub_approved_{key}", approved(world, member=m1, reviewer=reviewer, drafter=world.reviewer))
        setattr(world, f"pub_published_{key}", published(world, member=m2, reviewer=reviewer, drafter=world.reviewer,
                                                         publisher=world.reviewer))


def _prepare_stamped(world):
    """Published pledges of new members in branches A, B, C, D, each with a scan of the 公示 copy
    shown beside the text; in A also one kept for the archive only; member_a's own pledge of the
    2009 campaign (so it cannot clash with the other sections' pledges of member_a) with a scan."""
    for key, branch in _branches(world):
        member = Member.objects.create(branch=branch, name=f"盖章{key}", gender="M")
        c = published(world, member=member, reviewer=_secretary_over(world, key), drafter=world.reviewer,
                      publisher=world.reviewer)
        setattr(world, f"stamp_c_{key}", c)
        setattr(world, f"stamp_{key}", upload(c, world.reviewer, display="beside"))
    world.stamp_archive_a = upload(world.stamp_c_a, world.reviewer, copy="owner")
    mine = published_earlier(world, world.member_a)
    world.stamp_c_mine = mine
    world.stamp_mine = upload(mine, world.staff_a, copy="owner", file=scan_pdf())


# The relation of each branch's objects to branch A.
RELATIONS = (("own", "a"), ("sibling", "b"), ("cousin", "c"), ("other", "d"))


def _by_relation(prefix):
    return {rel: attr(f"{prefix}{key}") for rel, key in RELATIONS}


# Drafting and exemptions.
PLEDGES = _by_relation("pledge_")
VERSIONS = {rel: (lambda f: lambda world: {"pk": f(world), "number": 1})(f) for rel, f in PLEDGES.items()}
PROPOSALS = _by_relation("proposal_")
# 审核认同 by the secretaries of the branch's parent (or above): the committee's for A, B and, through
# the general branch, C; nobody here for D (another committee).
DECIDE = {"committee_secretary": {"own", "sibling", "cousin"}}
# An organisation is exempted by the secretaries over its parent.
ORG_EXEMPT = {"committee_secretary": {"own", "sibling", "child", "cousin"}}
DEFERRALS = _by_relation("deferral_")
# Officers over the owner edit; the member edits their own written pledge.
PLEDGE_EDIT = {**MEMBER_EDIT, "member_a": {"own"}}
PLEDGE_READ = PLEDGE_EDIT
# Organisations whose commitment may be started: officers over them, never the root (no reviewer).
ORG_START = {
    "reviewer": set(ORG_TARGETS) - {"root"}, "committee_secretary": {"own", "sibling", "parent", "child", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
BRANCH_PAGES = {
    "reviewer": {"own", "sibling", "cousin", "other"}, "committee_secretary": {"own", "sibling", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}

# Background jobs: a job belongs to the user who asked for it; every other persona (administrators
# included) gets a 404.
JOB_TARGETS = {"secretary_a_done": attr("job_done"), "staff_a_failed": attr("job_failed")}
OWN_JOB = {"secretary_a": {"secretary_a_done"}, "staff_a": {"staff_a_failed"}}

# Opinions: officers over the organisation handle them (can_handle_opinions).
OPINION_ORGS = {
    "reviewer": set(ORG_TARGETS),
    "committee_secretary": {"own", "sibling", "parent", "child", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
SUGGESTION_TARGETS = {r: attr(f"op_suggestion_{r}") for r in ("own", "sibling", "parent", "cousin", "other")}
SUGGESTION_HANDLERS = {
    "reviewer": set(SUGGESTION_TARGETS),
    "committee_secretary": {"own", "sibling", "parent", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
# Officers of a non-branch organisation publish references (can_publish_references).
REFERENCE_ORGS = {"reviewer": {"parent", "child", "root"}, "committee_secretary": {"parent", "child"}}
REFERENCE_TARGETS = {r: attr(f"op_reference_{r}") for r in ("parent", "child", "root", "other")}
REFERENCE_MANAGERS = {"reviewer": set(REFERENCE_TARGETS), "committee_secretary": {"parent", "child"}}
# Anyone, logged in or not, may use an active organisation's box; a revoked one is a 404.
BOX_TARGETS = {"own": attr("branch_a"), "root": attr("root"), "revoked": attr("op_revoked_branch")}

# Printable forms: a commitment's form is printed, once approved, by whoever may read it (officers
# over the owner, the reviewing secretaries); an organisation's batch by officers reaching the
# organisation (administrators and auditors are not officers); blank forms by anyone signed in.
FORM_TARGETS = {**_by_relation("pdf_pledge_"), "child_org": attr("pdf_org_commitment"),
                "draft": attr("pdf_draft")}
FORM_READ = {
    "reviewer": {"own", "sibling", "cousin", "other", "child_org"},
    "committee_secretary": {"own", "sibling", "cousin", "child_org"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
BATCH = {
    "reviewer": set(ORG_TARGETS), "committee_secretary": {"own", "sibling", "parent", "child", "cousin"},
    "secretary_a": {"own"}, "staff_a": {"own"}, "secretary_b": {"sibling"},
}
BLANK_TARGETS = {"annex1": lambda world: {"kind": "annex1"}, "annex2": lambda world: {"kind": "annex2"}}

# Publishing and the noticeboard.
TO_PUBLISH = _by_relation("pub_approved_")
PUBLISHED = _by_relation("pub_published_")
PUBLIC_ORGS = {"own": attr("branch_a"), "parent": attr("committee"), "root": attr("root")}
NOTICEBOARD_READERS = {p: {"own", "sibling", "cousin", "other", "parent", "root", None} for p in PERSONAS}

# Progress (践诺).
PROGRESS = _by_relation("prog_")
PROGRESS_FILES = {**_by_relation("prog_att_internal_"),
                  # 四（四）: a record shown to the members of the owning organisation, and one of a sibling's.
                  "members": attr("prog_att_members_a"), "sibling_members": attr("prog_att_members_b")}
PUBLIC_PROGRESS_FILES = {**_by_relation("prog_att_public_"), "internal": attr("prog_att_internal_a")}
# Readers of a member's pledge: officers over the branch and the reviewers (the branch's own
# secretaries, already officers); not the admin (三员分立). None of the owners has a login.
PROGRESS_READ = MEMBER_EDIT
# Evidence: the readers see every level; member A (branch A) also the members-level record of branch A.
EVIDENCE_READ = {p: rels | ({"members"} if "own" in rels else set()) | ({"sibling_members"} if "sibling" in rels
                                                                         else set())
                 for p, rels in PROGRESS_READ.items()} | {"member_a": {"members"}}
# Every persona, on each branch's object.
EVERYONE = {p: {rel for rel, _ in RELATIONS} for p in PERSONAS}

# Stamped scans: the officers who publish a commitment manage its scans (officers over the owner's
# branch; member_a's 2009 pledge lies in branch A too); the owner member views their own pledge's.
STAMPED = {**_by_relation("stamp_c_"), "mine": attr("stamp_c_mine")}
SCANS = {**_by_relation("stamp_"), "mine": attr("stamp_mine")}
PUBLIC_SCANS = {**_by_relation("stamp_"), "archive": attr("stamp_archive_a")}
SCAN_MANAGE = {p: rels | ({"mine"} if "own" in rels else set()) for p, rels in MEMBER_EDIT.items()}
SCAN_VIEW = {**SCAN_MANAGE, "member_a": {"mine"}}

MATRIX = {
    # Campaigns, drafting and exemptions.
    "commitments:campaign_list": Spec(NO_ARGS, allow(LOGGED_IN), methods=("GET",)),
    "commitments:campaign_create": Spec(NO_ARGS, allow(["admin"])),
    "commitments:campaign_edit": Spec({"own": attr("campaign")}, {"admin": {"own"}}),
    "commitments:list": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "commitments:detail": Spec(PLEDGES, PLEDGE_READ, methods=("GET",)),
    "commitments:edit": Spec(PLEDGES, PLEDGE_EDIT),
    "commitments:submit": Spec(PLEDGES, PLEDGE_EDIT, methods=("POST",)),
    # 四（一）自愿: only the member confirms or sends back a pledge drafted for them.
    "commitments:confirm": Spec(PLEDGES, {"member_a": {"own"}}),
    "commitments:send_back": Spec(PLEDGES, {"member_a": {"own"}}, methods=("POST",)),
    "commitments:version": Spec(VERSIONS, PLEDGE_READ, methods=("GET",)),
    "commitments:add_reference": Spec(PLEDGES, PLEDGE_EDIT, methods=("POST",)),
    "commitments:org_start": Spec(ORG_TARGETS, ORG_START, methods=("POST",)),
    "commitments:branch_pledges": Spec(ORG_TARGETS, BRANCH_PAGES, methods=("GET",)),
    "commitments:pledge_start": Spec(MEMBER_TARGETS, {**MEMBER_EDIT, "member_a": {"own"}}, methods=("POST",)),
    "commitments:my_pledge": Spec(NO_ARGS, allow(["member_a"]), methods=("GET",)),
    "commitments:exemption_create": Spec(MEMBER_TARGETS, MEMBER_EDIT),
    "commitments:exemption_made_up": Spec(DEFERRALS, MEMBER_EDIT, methods=("POST",)),
    "commitments:exemption_revoke": Spec(DEFERRALS, MEMBER_EDIT, methods=("POST",)),
    "commitments:exemption_list": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "commitments:exemption_decide": Spec(PROPOSALS, DECIDE, methods=("POST",)),
    "commitments:organisation_exemption_create": Spec(ORG_TARGETS, ORG_EXEMPT),
    "commitments:discard": Spec(PLEDGES, PLEDGE_EDIT, methods=("POST",)),

    # Background jobs. "我的导出任务" lists the own jobs of anyone signed in.
    "commitments:job_list": Spec(NO_ARGS, allow(LOGGED_IN), methods=("GET",)),
    "commitments:job_detail": Spec(JOB_TARGETS, OWN_JOB, methods=("GET",)),
    "commitments:job_status": Spec(JOB_TARGETS, OWN_JOB, methods=("GET",)),
    # A failed job has no result to download, for its owner neither.
    "commitments:job_download": Spec(JOB_TARGETS, {"secretary_a": {"secretary_a_done"}}, methods=("GET",)),

    # Opinions, the public suggestion box and reference items.
    "commitments:suggest": Spec(BOX_TARGETS, allow(PERSONAS, ("own", "root")), public=True),
    "commitments:opinion_list": Spec(ORG_TARGETS, OPINION_ORGS, methods=("GET",)),
    "commitments:opinion_create": Spec(ORG_TARGETS, OPINION_ORGS),
    "commitments:opinion_detail": Spec(SUGGESTION_TARGETS, SUGGESTION_HANDLERS, methods=("GET",)),
    "commitments:opinion_adopt": Spec(SUGGESTION_TARGETS, SUGGESTION_HANDLERS, methods=("POST",)),
    "commitments:opinion_decline": Spec(SUGGESTION_TARGETS, SUGGESTION_HANDLERS, methods=("POST",)),
    "commitments:opinion_start_commitment": Spec(SUGGESTION_TARGETS, SUGGESTION_HANDLERS, methods=("POST",)),
    "commitments:reference_list": Spec(ORG_TARGETS, REFERENCE_ORGS),
    "commitments:reference_import": Spec(ORG_TARGETS, REFERENCE_ORGS, methods=("POST",)),
    "commitments:reference_edit": Spec(REFERENCE_TARGETS, REFERENCE_MANAGERS),
    "commitments:reference_set_active": Spec(REFERENCE_TARGETS, REFERENCE_MANAGERS, methods=("POST",)),

    # Printable forms (GET only, but for the POST that queues a large batch as a job).
    "commitments:form_pdf": Spec(FORM_TARGETS, FORM_READ, methods=("GET",)),
    "commitments:batch_pdf": Spec(ORG_TARGETS, BATCH, methods=("GET",)),
    # A batch over BACKGROUND_PDF_THRESHOLD becomes a job on this POST (smaller ones: back to batch_pdf).
    "commitments:batch_pdf_job": Spec(ORG_TARGETS, {}, BATCH, methods=("POST",)),
    "commitments:blank_pdf": Spec(BLANK_TARGETS, allow(LOGGED_IN, BLANK_TARGETS), methods=("GET",)),

    # Publishing (亮诺).
    # Officers over the owner publish; the member does not (the branch runs the noticeboard).
    "commitments:publish": Spec(TO_PUBLISH, MEMBER_EDIT, methods=("POST",)),
    # The drafters reopen a published commitment: officers, and the member for a written pledge of
    # their own (none of these belongs to a persona).
    "commitments:revise": Spec(PUBLISHED, MEMBER_EDIT, methods=("POST",)),
    # Whoever may publish adds a channel (网络) to the current publication (四（三）).
    "commitments:add_channels": Spec(PUBLISHED, MEMBER_EDIT, methods=("POST",)),

    # Progress (践诺).
    "commitments:progress": Spec(PROGRESS, PROGRESS_READ, methods=("GET",)),
    # Officers over the owner record (the member would too, on a written pledge of their own).
    "commitments:progress_record": Spec(PROGRESS, MEMBER_EDIT),
    "commitments:attachment": Spec(PROGRESS_FILES, EVIDENCE_READ, methods=("GET",)),
    # 本支部践诺: members only (member A); everyone else has no member record.
    "commitments:branch_progress": Spec(NO_ARGS, allow(["member_a"]), methods=("GET",)),
    "commitments:public_progress": Spec(PROGRESS, EVERYONE, methods=("GET",), public=True),
    # Public entries' files for anyone; an internal entry's file for nobody through this URL.
    "commitments:public_attachment": Spec(PUBLIC_PROGRESS_FILES, EVERYONE, methods=("GET",), public=True),

    # Stamped paper forms scanned back after 亮诺.
    "commitments:stamped_upload": Spec(STAMPED, SCAN_MANAGE),
    "commitments:stamped_scan": Spec(SCANS, SCAN_VIEW, methods=("GET",)),
    "commitments:stamped_file": Spec(SCANS, SCAN_VIEW, methods=("GET",)),
    "commitments:stamped_display": Spec(SCANS, SCAN_MANAGE, methods=("POST",)),
    "commitments:stamped_withdraw": Spec(SCANS, SCAN_MANAGE, methods=("POST",)),
    # Scans chosen for the noticeboard, for anyone; an archive-only one for nobody.
    "commitments:public_stamped": Spec(PUBLIC_SCANS, EVERYONE, methods=("GET",), public=True),
}
