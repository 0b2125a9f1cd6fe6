"""Every write of the commitments app. One module per area; all re-exported here."""
from .campaigns import campaign_create, campaign_update  # noqa: F401
from .channels import current_publication, publication_add_channels  # noqa: F401
from .exemptions import (exemption_decide, exemption_make_up, exemption_propose, exemption_revoke,  # noqa: F401
                         organisation_exempt)
from .lifecycle import (ALLOWED, InvalidTransition, commitment_add_item, commitment_confirm,  # noqa: F401
                        commitment_discard, commitment_publish, commitment_revise, commitment_save_draft,
                        commitment_send_back, commitment_start, commitment_submit, submit_route, transition)
from .opinions import (commitment_add_item_from_reference, opinion_record, reference_create,  # noqa: F401
                       reference_set_active, reference_update, references_import_guidance, suggestion_adopt,
                       suggestion_decline, suggestion_submit_public)
from .printing import batch_pdf_job_create, batch_printed, blank_form_printed, form_printed  # noqa: F401
from .progress import attachment_download, progress_record  # noqa: F401
from .stamped import (stamped_scan_download, stamped_scan_set_display, stamped_scan_upload,  # noqa: F401
                      stamped_scan_withdraw)
