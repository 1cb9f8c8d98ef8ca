from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('wagate', '0004_drop_api_key')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Contact',
            name='marketing_messages',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='Contact',
            name='marketing_messages_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.CreateModel(
            name='MessageChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel_id', fields.CharField(max_length=128)),
                ('provider_message_id', fields.CharField(max_length=256)),
                ('change_id', fields.CharField(max_length=256)),
                ('payload', fields.BinaryField()),
                ('applied', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'message_change', 'app': 'wagate', 'unique_together': (('channel_id', 'change_id'),), 'indexes': [Index(fields=['channel_id', 'provider_message_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Template',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant_id', fields.CharField(max_length=64)),
                ('account_id', fields.CharField(max_length=64)),
                ('template_id', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=512)),
                ('language', fields.CharField(max_length=16)),
                ('category', fields.CharField(default='', max_length=32)),
                ('status', fields.CharField(default='', max_length=32)),
                ('quality', fields.CharField(default='', max_length=32)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'message_template', 'app': 'wagate', 'unique_together': (('tenant_id', 'account_id', 'template_id'),), 'indexes': [Index(fields=['tenant_id', 'name', 'language'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
