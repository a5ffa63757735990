/**
 * The editor side of the dynamic block luxebrain/placement (no build step: WordPress's own globals).
 * The slot is filled on the shop's pages by the widget, so the editor shows a placeholder naming the
 * placement; the placement, category, number of products and title are chosen in the block and its sidebar.
 * The server renders the block (render_callback), so nothing is saved but the attributes.
 */
( function ( blocks, element, components, blockEditor, i18n ) {
	"use strict";
	var el = element.createElement;
	var __ = i18n.__;
	var PLACEMENTS = [
		{ value: "trending", label: __( "Trending: popular products", "luxebrain" ) },
		{ value: "related", label: __( "Related to the product shown", "luxebrain" ) },
		{ value: "basket", label: __( "Goes with the basket", "luxebrain" ) }
	];

	function labelOf( placement ) {
		var found = PLACEMENTS.filter( function ( option ) { return option.value === placement; } )[ 0 ];
		return found ? found.label : placement;
	}

	function Edit( props ) {
		var attributes = props.attributes;
		function set( name ) {
			return function ( value ) {
				var change = {};
				change[ name ] = value;
				props.setAttributes( change );
			};
		}
		var placementControl = el( components.SelectControl, {
			label: __( "Placement", "luxebrain" ),
			value: attributes.placement,
			options: PLACEMENTS,
			onChange: set( "placement" ),
			__nextHasNoMarginBottom: true
		} );
		return el(
			element.Fragment,
			null,
			el(
				blockEditor.InspectorControls,
				null,
				el(
					components.PanelBody,
					{ title: __( "Recommendations", "luxebrain" ) },
					placementControl,
					el( components.TextControl, {
						label: __( "Category slug (trending only)", "luxebrain" ),
						value: attributes.category,
						onChange: set( "category" )
					} ),
					el( components.RangeControl, {
						label: __( "Products", "luxebrain" ),
						value: attributes.k,
						min: 1,
						max: 12,
						onChange: set( "k" )
					} ),
					el( components.TextControl, {
						label: __( "Title (empty: the widget's own)", "luxebrain" ),
						value: attributes.title,
						onChange: set( "title" )
					} )
				)
			),
			el(
				"div",
				blockEditor.useBlockProps(),
				el(
					components.Placeholder,
					{
						icon: "products",
						label: __( "LuxeBrain recommendations", "luxebrain" ),
						instructions: labelOf( attributes.placement ) + " \u00b7 " + attributes.k + " " +
							__( "products, filled on the shop's pages with the store's prices", "luxebrain" )
					},
					placementControl
				)
			)
		);
	}

	blocks.registerBlockType( "luxebrain/placement", {
		edit: Edit,
		save: function () { return null; }
	} );
}( window.wp.blocks, window.wp.element, window.wp.components, window.wp.blockEditor, window.wp.i18n ) );
