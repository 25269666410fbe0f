"""Imports every model module so that SQLAlchemy's metadata (and Alembic) sees the whole schema."""
from webapp.activity.models import ActivityEntry  # noqa: F401
from webapp.alerts.models import Alert  # noqa: F401
from webapp.analytics.models import DailyCustomerSales, DailyProductSales, DailySales, SalesDayChanged  # noqa: F401
from webapp.api.models import IdempotentRequest  # noqa: F401
from webapp.auth.models import ApiToken, RecoveryCode, User  # noqa: F401
from webapp.background.models import PendingJob  # noqa: F401
from webapp.backups.models import Backup  # noqa: F401
from webapp.catalog.models import Product, StockMovement  # noqa: F401
from webapp.customers.models import Customer  # noqa: F401
from webapp.emails.models import OutgoingEmail  # noqa: F401
from webapp.feedback.models import OrderFeedback  # noqa: F401
from webapp.forecasting.models import DemandForecast, SalesAnomaly  # noqa: F401
from webapp.imports.models import ColumnMapping, ImportRun  # noqa: F401
from webapp.invoices.models import DocumentSequence, Invoice  # noqa: F401
from webapp.orders import (
    earlier_orders,  # noqa: F401 - keeps each order's earlier orders in step
    shipping_times,  # noqa: F401 - and its hours to ship
    shop_days,  # noqa: F401 - keeps each order's stored shop day in step
)
from webapp.orders.models import Order, OrderEvent, OrderLine  # noqa: F401
from webapp.printing.models import PrintRun  # noqa: F401
from webapp.settings.models import ShopSettings  # noqa: F401
from webapp.webhooks.models import ChannelOrder  # noqa: F401
from webapp.webhooks_out.models import Webhook, WebhookDelivery  # noqa: F401
