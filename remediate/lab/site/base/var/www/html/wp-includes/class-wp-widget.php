<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-widget.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-widget.php';
