<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-widget-factory.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-widget-factory.php';
