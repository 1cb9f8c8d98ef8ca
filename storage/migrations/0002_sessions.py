from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('wagate', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('channel_id', fields.CharField(max_length=128)),
                ('session_id', fields.CharField(max_length=128)),
                ('status', fields.CharField(max_length=32)),
                ('message', fields.TextField(default='', unique=False)),
                ('qr', fields.TextField(default='', unique=False)),
                ('qr_image', fields.TextField(default='', unique=False)),
                ('loading_percent', fields.IntField(default=0)),
                ('reported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'qr_session', 'app': 'wagate', 'unique_together': (('tenant_id', 'session_id'),), 'indexes': [Index(fields=['tenant_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
