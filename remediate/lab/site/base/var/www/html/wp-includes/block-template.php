<?php
/**
 * WordPress-like lab stub for wp-includes/block-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-template.php';
