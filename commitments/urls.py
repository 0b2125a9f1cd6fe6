from django.urls import path

from .views import campaigns, drafting, exemptions, forms_pdf, jobs, opinions, progress, stamped

app_name = "commitments"

urlpatterns = [
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path("commitments/", drafting.commitment_list, name="list"),
    path("commitments/<int:pk>/", drafting.commitment_detail, name="detail"),
    path("commitments/<int:pk>/edit/", drafting.commitment_edit, name="edit"),
    path("commitments/<int:pk>/submit/", drafting.commitment_submit, name="submit"),
    path("commitments/<int:pk>/confirm/", drafting.pledge_confirm, name="confirm"),
    path("commitments/<int:pk>/send-back/", drafting.pledge_send_back, name="send_back"),
    path("commitments/<int:pk>/versions/<int:number>/", drafting.version_detail, name="version"),
    path("commitments/<int:pk>/references/", drafting.commitment_add_reference, name="add_reference"),
    path("orgs/<int:pk>/commitment/", drafting.org_commitment_start, name="org_start"),
    path("orgs/<int:pk>/pledges/", drafting.branch_pledges, name="branch_pledges"),
    path("members/<int:pk>/pledge/", drafting.pledge_start, name="pledge_start"),
    path("my/pledge/", drafting.my_pledge, name="my_pledge"),
    path("commitments/<int:pk>/publish/", drafting.commitment_publish, name="publish"),
    path("commitments/<int:pk>/channels/", drafting.commitment_add_channels, name="add_channels"),
    path("commitments/<int:pk>/revise/", drafting.commitment_revise, name="revise"),
    path("commitments/<int:pk>/discard/", drafting.commitment_discard, name="discard"),
    # --- printable forms (commitments/views/forms_pdf.py) ---
    path("commitments/<int:pk>/form.pdf", forms_pdf.form_pdf, name="form_pdf"),
    path("orgs/<int:pk>/forms.pdf", forms_pdf.batch_pdf, name="batch_pdf"),
    path("orgs/<int:pk>/forms-job", forms_pdf.batch_pdf_job, name="batch_pdf_job"),
    path("forms/blank/<str:kind>.pdf", forms_pdf.blank_pdf, name="blank_pdf"),
    # --- end of printable forms ---
    path("members/<int:pk>/exemption/", exemptions.exemption_create, name="exemption_create"),
    path("exemptions/", exemptions.exemption_list, name="exemption_list"),
    path("exemptions/<int:pk>/decide/", exemptions.exemption_decide, name="exemption_decide"),
    path("orgs/<int:pk>/exemption/", exemptions.organisation_exemption_create, name="organisation_exemption_create"),
    path("exemptions/<int:pk>/made-up/", exemptions.exemption_made_up, name="exemption_made_up"),
    path("exemptions/<int:pk>/revoke/", exemptions.exemption_revoke, name="exemption_revoke"),
    # --- opinions, suggestion box and reference items (commitments/views/opinions.py) ---
    path("public/orgs/<int:pk>/suggest/", opinions.suggest, name="suggest"),
    path("orgs/<int:pk>/opinions/", opinions.opinion_list, name="opinion_list"),
    path("orgs/<int:pk>/opinions/new/", opinions.opinion_create, name="opinion_create"),
    path("opinions/<int:pk>/", opinions.opinion_detail, name="opinion_detail"),
    path("opinions/<int:pk>/adopt/", opinions.opinion_adopt, name="opinion_adopt"),
    path("opinions/<int:pk>/decline/", opinions.opinion_decline, name="opinion_decline"),
    path("opinions/<int:pk>/start-commitment/", opinions.opinion_start_commitment, name="opinion_start_commitment"),
    path("orgs/<int:pk>/references/", opinions.reference_list, name="reference_list"),
    path("orgs/<int:pk>/references/import/", opinions.reference_import, name="reference_import"),
    path("references/<int:pk>/edit/", opinions.reference_edit, name="reference_edit"),
    path("references/<int:pk>/active/", opinions.reference_set_active, name="reference_set_active"),
    # --- end of opinions ---
    # --- progress records (commitments/views/progress.py) ---
    path("commitments/<int:pk>/progress/", progress.progress_page, name="progress"),
    path("commitments/<int:pk>/progress/new/", progress.progress_record, name="progress_record"),
    path("attachments/<int:pk>/", progress.attachment_download, name="attachment"),
    path("my/branch-progress/", progress.branch_progress, name="branch_progress"),
    path("public/commitments/<int:pk>/progress/", progress.public_progress, name="public_progress"),
    path("public/attachments/<int:pk>/", progress.public_attachment, name="public_attachment"),
    # --- end of progress records ---
    # --- background jobs (commitments/views/jobs.py) ---
    path("jobs/", jobs.job_list, name="job_list"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:pk>/status.json", jobs.job_status, name="job_status"),
    path("jobs/<int:pk>/download/", jobs.job_download, name="job_download"),
    # --- end of background jobs ---
    # --- stamped paper forms scanned back (commitments/views/stamped.py) ---
    path("commitments/<int:pk>/stamped/new/", stamped.stamped_scan_upload, name="stamped_upload"),
    path("stamped/<int:pk>/", stamped.stamped_scan_detail, name="stamped_scan"),
    path("stamped/<int:pk>/file/", stamped.stamped_scan_file, name="stamped_file"),
    path("stamped/<int:pk>/display/", stamped.stamped_scan_display, name="stamped_display"),
    path("stamped/<int:pk>/withdraw/", stamped.stamped_scan_withdraw, name="stamped_withdraw"),
    path("public/stamped/<int:pk>/", stamped.public_stamped_scan, name="public_stamped"),
    # --- end of stamped scans ---
]
